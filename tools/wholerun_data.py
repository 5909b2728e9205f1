"""wholerun_data.py -- data for timing whole training runs (docs/PLATFORM.md §4): a
SIMS-shaped MMSA pickle (N training clips, 64 valid, 64 test; text 39 with real lengths 8
to 39, or all 39 with --full-text; audio 400 x 33, vision 55 x 709) and a randomly
initialised bert-base-chinese folder (config.json, vocab.txt, pytorch_model.bin).
Usage: /usr/bin/python3 tools/wholerun_data.py OUT [N=160] [--full-text]
  writes OUT/sims<N>.pkl (OUT/sims<N>full.pkl with --full-text) and OUT/bert_cn/"""
import json, os, pickle, sys
import numpy as np, torch
argv = [a for a in sys.argv[1:] if not a.startswith('--')]
full = '--full-text' in sys.argv
if not argv:
    sys.exit(__doc__)
out = argv[0]; ntr = int(argv[1]) if len(argv) > 1 else 160
rng = np.random.default_rng(7)
L, TA, DA, TV, DV, V = 39, 400, 33, 55, 709, 21128
def split(n):
    tl = rng.integers(8, L + 1, n); ids = np.zeros((n, L)); mask = np.zeros((n, L))
    if full:
        tl[:] = L
    for i in range(n):
        ids[i, :tl[i]] = rng.integers(1, V, tl[i]); ids[i, 0] = 101; ids[i, tl[i]-1] = 102; mask[i, :tl[i]] = 1
    tb = np.stack([ids, mask, np.zeros((n, L))], 1).astype(np.float32)
    al = rng.integers(50, TA + 1, n); vl = rng.integers(10, TV + 1, n)
    y = np.round(rng.uniform(-1, 1, n) * 5) / 5
    return dict(text_bert=tb, audio=rng.standard_normal((n, TA, DA)).astype(np.float32),
                vision=rng.standard_normal((n, TV, DV)).astype(np.float32),
                audio_lengths=al, vision_lengths=vl, regression_labels=y.astype(np.float32),
                regression_labels_T=y.astype(np.float32), regression_labels_A=y.astype(np.float32),
                regression_labels_V=y.astype(np.float32), id=np.array(['v$_$%d' % i for i in range(n)], dtype=object),
                raw_text=np.array(['x'] * n, dtype=object))
d = {'train': split(ntr), 'valid': split(64), 'test': split(64)}
os.makedirs(out, exist_ok=True)
pickle.dump(d, open(os.path.join(out, 'sims%d%s.pkl' % (ntr, 'full' if full else '')), 'wb'), protocol=4)
bd = os.path.join(out, 'bert_cn')
os.makedirs(bd, exist_ok=True)
cfg = dict(vocab_size=V, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
           max_position_embeddings=512, type_vocab_size=2, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
           layer_norm_eps=1e-12, initializer_range=0.02, hidden_act='gelu', model_type='bert')
json.dump(cfg, open(os.path.join(bd, 'config.json'), 'w'))
g = torch.Generator().manual_seed(1)
sd = {}
def t(name, *shape, std=0.02):
    sd['bert.' + name] = torch.randn(*shape, generator=g) * std
t('embeddings.word_embeddings.weight', V, 768); t('embeddings.position_embeddings.weight', 512, 768)
t('embeddings.token_type_embeddings.weight', 2, 768)
sd['bert.embeddings.LayerNorm.weight'] = torch.ones(768); sd['bert.embeddings.LayerNorm.bias'] = torch.zeros(768)
for l in range(12):
    p = 'encoder.layer.%d.' % l
    for n in ('attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense'):
        t(p + n + '.weight', 768, 768); sd['bert.' + p + n + '.bias'] = torch.zeros(768)
    t(p + 'intermediate.dense.weight', 3072, 768); sd['bert.' + p + 'intermediate.dense.bias'] = torch.zeros(3072)
    t(p + 'output.dense.weight', 768, 3072); sd['bert.' + p + 'output.dense.bias'] = torch.zeros(768)
    for n in ('attention.output.LayerNorm', 'output.LayerNorm'):
        sd['bert.' + p + n + '.weight'] = torch.ones(768); sd['bert.' + p + n + '.bias'] = torch.zeros(768)
t('pooler.dense.weight', 768, 768); sd['bert.pooler.dense.bias'] = torch.zeros(768)
torch.save(sd, os.path.join(bd, 'pytorch_model.bin'))
open(os.path.join(bd, 'vocab.txt'), 'w').write('\n'.join(['[PAD]'] + ['[unused%d]' % i for i in range(99)] + ['[UNK]', '[CLS]', '[SEP]', '[MASK]'] + ['t%d' % i for i in range(V - 104)]) + '\n')
print('ok')
