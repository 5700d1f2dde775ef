// A Vite plugin for the dev server, `vite preview` (the end-to-end test's built demo) and the browser
// tests: serves Debian's Fashion-MNIST files (dataset-fashion-mnist, /usr/share/datasets/fashion-mnist)
// at /datasets/fashion-mnist/<file>. Only the four file names are served (no path from the request
// reaches the file system), read-only; a missing package gives 404, and the page says so.
import { createReadStream, existsSync, statSync } from 'node:fs';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
const FILES = new Set([
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
]);
const PREFIX = '/datasets/fashion-mnist/';

/** `dir`: where the files are (a test points it at an empty folder to see the page without them). */
export function datasets({ dir = FASHION_MNIST_DIR } = {}) {
  const serve = (req, res, next) => {
    const path = (req.url ?? '').split('?')[0];
    if (!path.startsWith(PREFIX)) return next();
    const name = path.slice(PREFIX.length);
    const file = `${dir}/${name}`;
    if (!FILES.has(name) || !existsSync(file)) {
      res.statusCode = 404;
      res.end(`not found: ${FILES.has(name) ? 'apt-get install dataset-fashion-mnist' : 'no such dataset file'}`);
      return;
    }
    res.setHeader('Content-Type', 'application/gzip');
    res.setHeader('Content-Length', String(statSync(file).size));
    createReadStream(file).pipe(res);
  };
  return {
    name: 'acon-datasets',
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
  };
}
