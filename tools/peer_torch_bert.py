"""peer_torch_bert.py -- PyTorch's figures beside `selfmm-cli bench` (docs/PLATFORM.md §4):
Debian's python3-torch, the reference harness's HuggingFace-layout BertModel (bert-base),
2 threads, batch 32, the bench's text lengths (sample 0 full, the others L/2 to L; PyTorch
computes every padded position, so they do not change its time).
Times, round-robin in one process: fp32 and bf16-autocast training forward+backward (a
loss on the [CLS] rows, as Self-MM uses them) and eval forward (no_grad); medians and the
best round.
Usage: /usr/bin/python3 tools/peer_torch_bert.py HARNESS [L=39] [rounds=5] [vocab=21128]
  HARNESS: the folder holding run_thuiar.py and hf_bert.py"""
import statistics, sys, time, resource

args = [a for a in sys.argv[1:] if not a.startswith('--')]
if not args:
    sys.exit(__doc__)
sys.path.insert(0, args[0])
import torch  # noqa: E402
from hf_bert import BertModel, BERT_BASE  # noqa: E402

L = int(args[1]) if len(args) > 1 else 39
R = int(args[2]) if len(args) > 2 else 5
V = int(args[3]) if len(args) > 3 else 21128
B = 32
torch.set_num_threads(2)
torch.manual_seed(0)
m = BertModel(dict(BERT_BASE, vocab_size=V))
ids = torch.randint(1, V, (B, L))
mask = torch.ones(B, L, dtype=torch.long)
for b in range(1, B):  # as cmd_bench: sample 0 full length, the others random lengths >= L/2
    n = L // 2 + int(torch.randint(0, L - L // 2 + 1, (1,)))
    mask[b, n:] = 0
    ids[b, n:] = 0
seg = torch.zeros(B, L, dtype=torch.long)
g = torch.randn(B, 768) * 0.01


def train(bf16):
    m.train()
    m.zero_grad(set_to_none=False)
    t0 = time.perf_counter()
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        x = m(ids, mask, seg)
        loss = (x[:, 0].float() * g).sum()
    loss.backward()
    return time.perf_counter() - t0


def evaluate(bf16):
    m.eval()
    t0 = time.perf_counter()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        m(ids, mask, seg)
    return time.perf_counter() - t0


t = {k: [] for k in ('train32', 'train16', 'eval32', 'eval16')}
for r in range(R + 1):
    a, b_, c, d = train(False), train(True), evaluate(False), evaluate(True)
    if r:
        t['train32'].append(a), t['train16'].append(b_), t['eval32'].append(c), t['eval16'].append(d)
med = {k: statistics.median(v) for k, v in t.items()}
print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, B {B} L {L}, {R} rounds")
print(f"torch BERT fwd+bwd: fp32 {med['train32']:.3f} s  bf16 autocast {med['train16']:.3f} s  "
      f"(ratio {med['train16'] / med['train32']:.2f})")
print(f"torch BERT eval fwd: fp32 {med['eval32']:.3f} s  bf16 autocast {med['eval16']:.3f} s  "
      f"(ratio {med['eval16'] / med['eval32']:.2f})")
print("best rounds: " + ", ".join(f"{k} {min(v):.3f} s" for k, v in t.items()))
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
