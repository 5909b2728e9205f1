#!/usr/bin/python3
"""verify_pth_export.py -- check a .pth written by selfmm_model_export_pth with the
real consumers: torch.load (also with weights_only=True, the restricted
unpickler) and the reference model's own load_state_dict(strict=True) (models/AMIO.py,
loaded through the reference harness by tools/harness_ref.py); every tensor must equal
the reference state_dict it was imported from. With --commit, copy the verified file to
tests/fixtures/io/selfmm_tiny_export.pth (the C test then checks that libselfmm still
writes exactly these bytes).

    make build/tests/test_checkpoint && SELFMM_BUILD=build build/tests/test_checkpoint
    /usr/bin/python3 tools/verify_pth_export.py build/tmp/test_checkpoint/export.pth HARNESS --commit
(HARNESS: the folder holding the reference harness's run_thuiar.py)
"""
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness_ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FX = os.path.join(ROOT, "tests", "fixtures", "io")


def main():
    args = [a for a in sys.argv[1:] if a != "--commit"]
    if len(args) != 2:
        raise SystemExit("usage: verify_pth_export.py EXPORT.pth HARNESS [--commit]")
    path, harness = args
    cfg = json.load(open(os.path.join(FX, "selfmm_tiny_config.json")))
    ref = torch.load(os.path.join(FX, "selfmm_tiny.pth"), map_location="cpu")
    sd = torch.load(path, map_location="cpu")
    sd_safe = torch.load(path, map_location="cpu", weights_only=True)
    model = harness_ref.Reference(harness).model(cfg)
    model.load_state_dict(sd, strict=True)          # raises on any missing/extra key or shape
    assert list(sd.keys()) == list(ref.keys()), "key order differs"
    for k, v in ref.items():
        assert sd[k].dtype == torch.float32 and sd[k].is_contiguous(), k
        assert torch.equal(sd[k], v.float()), "value differs: " + k
        assert torch.equal(sd_safe[k], v.float()), "value differs (weights_only): " + k
        assert torch.equal(model.state_dict()[k], v.float()), "model value differs: " + k
    print("ok: torch %s loads %s (%d tensors), strict load_state_dict accepts it, all values equal"
          % (torch.__version__, path, len(sd)))
    if "--commit" in sys.argv:
        dst = os.path.join(FX, "selfmm_tiny_export.pth")
        shutil.copyfile(path, dst)
        print("copied to", dst)


if __name__ == "__main__":
    main()
