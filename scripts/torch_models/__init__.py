"""PyTorch definitions of the networks acon-webgpu loads (used by scripts/convert_checkpoint.py and
scripts/make_model_fixtures.py; nothing here is shipped with the library).

  acon.py, shufflenetv2_acon.py, shufflenetv2_meta_acon.py  the official code, vendored (MIT, LICENSE)
  seed_nets.py      the project's three small seed CNNs (src/layers/networks.ts), in PyTorch
  architectures.py  one place that builds, detects and counts every architecture
  safetensors_io.py a small safetensors reader/writer (F32 and U8 only)
  checkpoint_reader.py  reads torch.save's formats without running anything from the file (no torch.load)
"""
