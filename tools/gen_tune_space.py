"""gen_tune_space.py -- the reference's search space for `selfmm-cli tune`, dumped
from its own definition.

    /usr/bin/python3 tools/gen_tune_space.py HARNESS_DIR tests/fixtures/tune/space.json

Loads thuiar/Self-MM's config/config_tune.py through the reference harness (importing
run_thuiar puts the reference's code on the import path) and runs ConfigTune's own
__SELF_MM() with the module's `random.choice` replaced by a recorder, so every drawn
key is seen with the list it draws from, and every other key with its constant.
Writes, one key per line (JSON, Python's number spelling):

    "d_paras"    the keys the reference records per trial (its order: the CSV columns)
    "values"     every other key of debugParas: [choices] when drawn with
                 random.choice, the value itself when constant
    "common"     commonParas (the same in every trial)
    "key_eval"   each dataset's KeyEval (unaligned): the metric trials are ranked by

`selfmm-cli tune --space` prints its own table (cli/tune_space.c) in the same form;
tests/test_cli_tune.sh checks the two are byte for byte the same.
"""
import importlib
import json
import os
import sys


class Drawn(list):
    """What the recorder returns for random.choice(seq): the list itself, marked."""


class Recorder:
    @staticmethod
    def choice(seq):
        return Drawn(seq)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    harness, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    if not os.path.isfile(os.path.join(harness, "run_thuiar.py")):
        raise SystemExit(f"{harness}: no run_thuiar.py (pass the reference harness folder)")
    sys.path.insert(0, harness)
    import run_thuiar  # noqa: F401  (puts the reference's code on sys.path)
    mod = importlib.import_module("config.config_tune")
    mod.random = Recorder
    tune = mod.ConfigTune._ConfigTune__SELF_MM(None)
    datasets = mod.ConfigTune._ConfigTune__datasetCommonParams(None)
    debug = tune["debugParas"]
    d_paras = debug["d_paras"]
    lines = ["{", ' "d_paras": ' + json.dumps(d_paras) + ",", ' "values": {']
    vals = [(k, v) for k, v in debug.items() if k != "d_paras"]
    for i, (k, v) in enumerate(vals):
        text = json.dumps(list(v)) if isinstance(v, Drawn) else json.dumps(v)
        lines.append(f"  {json.dumps(k)}: {text}" + ("," if i + 1 < len(vals) else ""))
    lines.append(" },")
    lines.append(' "common": {')
    common = list(tune["commonParas"].items())
    for i, (k, v) in enumerate(common):
        lines.append(f"  {json.dumps(k)}: {json.dumps(v)}" + ("," if i + 1 < len(common) else ""))
    lines.append(" },")
    ke = [(d, datasets[d]["unaligned"]["KeyEval"]) for d in datasets]
    lines.append(' "key_eval": {' + ", ".join(f"{json.dumps(d)}: {json.dumps(v)}" for d, v in ke) + "}")
    lines.append("}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
