// A vitest browser provider for the system's Firefox over WebDriver BiDi (scripts/firefox.mjs), so the
// kernel suite runs in Firefox (wgpu) without the patched Firefox that Playwright downloads. Like
// vitest's own "preview" provider it only opens vitest's tester page and lets the page report back;
// the kernel tests need no locators or user events.
import { defineBrowserProvider } from '@vitest/browser';
import { launchFirefox } from './firefox.mjs';

class FirefoxBidiProvider {
  name = 'firefox-bidi';
  supportsParallelism = false;
  /** @type {import('puppeteer-core').Browser | undefined} */
  browser;
  /** @type {Map<string, import('puppeteer-core').Page>} */
  pages = new Map();

  getCommandsContext() {
    return {};
  }

  async openPage(sessionId, url) {
    this.browser ??= await launchFirefox();
    let page = this.pages.get(sessionId);
    if (!page) {
      page = await this.browser.newPage();
      this.pages.set(sessionId, page);
    }
    await page.goto(url);
  }

  async close() {
    const browser = this.browser;
    this.browser = undefined;
    this.pages.clear();
    await browser?.close();
  }
}

/** The provider for a vitest browser project: `browser: { provider: firefoxBidi(), instances: [{ browser: 'firefox' }] }`. */
export function firefoxBidi() {
  return defineBrowserProvider({ name: 'firefox-bidi', providerFactory: () => new FirefoxBidiProvider() });
}
