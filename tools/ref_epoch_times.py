"""ref_epoch_times.py -- the reference trainer's epoch times: runs `run_thuiar.py train` of
the harness with the given arguments and prints (stderr) when every validation (do_test
'VAL') starts and ends and how long each torch.save takes. The interval between two
validation ends is one whole epoch of the reference trainer: training steps, label
updates, validation and the best model's save (docs/PLATFORM.md §4).
Usage: /usr/bin/python3 tools/ref_epoch_times.py HARNESS --data D.pkl --dataset sims \
           --bert BERT_DIR --max-epochs 3 --threads 2 --out PREFIX"""
import sys, time
if len(sys.argv) < 2:
    sys.exit(__doc__)
sys.path.insert(0, sys.argv[1])
sys.argv = ['run_thuiar.py', 'train'] + sys.argv[2:]
import run_thuiar  # noqa: E402  (sets sys.path for the reference)
from trains.multiTask.SELF_MM import SELF_MM  # noqa: E402
orig = SELF_MM.do_test
def do_test(self, model, loader, mode='VAL'):
    t0 = time.time()
    r = orig(self, model, loader, mode)
    print('do_test %s start %.3f end %.3f' % (mode, t0, time.time()), file=sys.stderr, flush=True)
    return r
SELF_MM.do_test = do_test
orig_save = __import__('torch').save
def save(*a, **k):
    t0 = time.time(); r = orig_save(*a, **k)
    print('save %.3f s' % (time.time() - t0), file=sys.stderr, flush=True); return r
__import__('torch').save = save
print('start %.3f' % time.time(), file=sys.stderr, flush=True)
run_thuiar.main()
