#!/usr/bin/python3
"""gen_reference_train.py HARNESS_DIR -- training trajectories of the reference itself.

Runs thuiar/Self-MM's own trainer through HARNESS_DIR/run_thuiar.py train (the harness
of ../shared/reference/harness: the reference's config, model and SELF_MM.do_train,
unchanged, with in-order batches) on small SIMS- and MOSI-shaped pickles with a tiny
BERT, and keeps what it writes: the four label maps after every epoch
(PREFIX_labels.npz), the per-batch and per-epoch losses and validation results
(PREFIX_trace.json) and, for the MOSI-shaped main case, the best weights
(PREFIX_best.pth; one such file only, to keep the fixtures small).
Nothing here computes a training step: the numbers all come from the reference.

Writes tests/fixtures/reference/train/ (replacing all but its README.md, which describes
the files; tests/test_train_reference.c reads them):
- bert/: a tiny HuggingFace-layout BERT (config.json, vocab.txt, pytorch_model.bin),
  weights from the harness's BertModel with a fixed seed;
- sims.pkl, mosi.pkl: MMSA-layout pickles (train 44 = 5 x 8 + 4 samples, so batch_size 8
  ends on a tail batch of 4 and update_epochs 4 leaves a partial window of 2 batches;
  valid 18 = 8 + 8 + 2; test 12 = 8 + 4); mosi_aligned.pkl: MOSI-shaped, audio and vision
  as long as the text, without audio_lengths/vision_lengths (as MMSA's aligned_50.pkl;
  the harness, which reads them, gets a copy with lengths the reference then ignores);
- sims_init.pth, mosi_init.pth: the reference's AMIO as the harness initialises it
  (torch.manual_seed(1111)), saved by the reference itself: the best.pth of a run with
  every learning rate 0 (Adam with lr 0 leaves every weight as it is);
- per case PREFIX_trace.json, PREFIX_labels.npz (mosi_best.pth for mosi) and
  PREFIX_run.json: the harness arguments, the epochs after which the reference saved a
  new best model (observed by wrapping torch.save and the trainer's do_test, not
  recomputed) and the epoch it stopped after.

Run: /usr/bin/python3 tools/gen_reference_train.py ../shared/reference/harness
(Debian 12: python3-torch 1.13, python3-numpy; one thread; deterministic).
"""
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'tests', 'fixtures', 'reference', 'train')

VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + \
    ['the', 'a', 'is', 'it', 'not', 'good', 'bad', 'movie', 'i', 'like', 'love', 'hate', 'very',
     'so', 'this', 'was', 'and', 'but', 'fun', 'dull', 'great', 'poor', 'plot', 'act', '##s',
     '##ing', '##ed', '##ly', ',', '.', '!', '?', 'of', 'to', 'in', 'what', 'no', 'yes', 'ok',
     'wow', 'meh', 'story', 'end']
BERT_CONFIG = dict(architectures=['BertModel'], model_type='bert', vocab_size=len(VOCAB), hidden_size=16,
                   num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                   max_position_embeddings=24, type_vocab_size=2, hidden_act='gelu',
                   hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12,
                   initializer_range=0.2, pad_token_id=0)
SPLITS = {'train': 44, 'valid': 18, 'test': 12}

# Shapes: (text length with [CLS]/[SEP], audio frames, audio width, vision frames, vision width).
SHAPES = {'sims': (10, 12, 5, 8, 6), 'mosi': (12, 10, 5, 9, 7), 'mosi_aligned': (10, 10, 5, 10, 7)}

# The observer: runs run_thuiar.py's main() unchanged and records after which epoch the
# trainer saves a new best model (torch.save is called only there) and how many epochs
# it validated. Written next to the harness outputs as PREFIX_run.json.
OBSERVER = r'''
import json, sys
harness, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, harness)
sys.argv = [harness + '/run_thuiar.py'] + sys.argv[3:]
import run_thuiar, torch
from trains.multiTask.SELF_MM import SELF_MM
seen = {'epochs': 0, 'saved': []}
do_test = SELF_MM.do_test
def counting_do_test(self, *a, **k):
    seen['epochs'] += 1       # the trainer validates once per epoch
    return do_test(self, *a, **k)
SELF_MM.do_test = counting_do_test
save = torch.save
def observed_save(*a, **k):
    seen['saved'].append(seen['epochs'])
    return save(*a, **k)
torch.save = observed_save
run_thuiar.main()
with open(out, 'w') as f:
    json.dump(seen, f)
'''


def make_bert(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(BERT_CONFIG, f, indent=1)
    with open(os.path.join(d, 'vocab.txt'), 'w') as f:
        f.write('\n'.join(VOCAB) + '\n')
    import hf_bert
    torch.manual_seed(20211)
    m = hf_bert.BertModel(dict(hf_bert.BERT_BASE, **BERT_CONFIG))
    torch.save(m.state_dict(), os.path.join(d, 'pytorch_model.bin'))


def make_split(rng, kind, split, n, shape):
    L, TA, DA, TV, DV = shape
    aligned = kind == 'mosi_aligned'
    V = len(VOCAB)
    text_len = rng.integers(3, L + 1, n)
    text_len[0] = L
    text_len[1] = 3
    ids, mask, seg = np.zeros((n, L)), np.zeros((n, L)), np.zeros((n, L))
    for i in range(n):
        k = text_len[i]
        ids[i, 0], ids[i, k - 1] = 2, 3                  # [CLS] ... [SEP]
        ids[i, 1:k - 1] = rng.integers(5, V, k - 2)
        mask[i, :k] = 1
    seg[2, 4:text_len[2]] = 1                            # a second segment in one sample
    text_bert = np.stack([ids, mask, seg], axis=1).astype(np.float32)
    if aligned:                                          # word-aligned: no lengths of their own; the
        a_len, v_len = np.full(n, TA), np.full(n, TV)    # harness's loader needs some (ignored)
    else:
        a_len, v_len = rng.integers(1, TA + 1, n), rng.integers(1, TV + 1, n)
        a_len[0], v_len[0], a_len[1], v_len[1] = TA, TV, 1, 1
    audio = rng.standard_normal((n, TA, DA)).astype(np.float32)
    vision = rng.standard_normal((n, TV, DV)).astype(np.float32)
    if split == 'train':                                 # the reference's loader sets audio -inf to 0
        audio[3, 0, 1] = -np.inf
        audio[7, min(a_len[7], TA) - 1, 4] = -np.inf
        audio[9, TA - 1, 0] = -np.inf
    if kind == 'sims':                                   # SIMS: a 0.2 grid in [-1, 1]
        y = np.round(rng.uniform(-1, 1, n) * 5) / 5
        y[:4] = [0.0, -0.6, 0.8, 0.0]
    else:                                                # MOSI: means of annotators' [-3, 3]
        den = rng.choice([3, 5], n)
        y = np.clip(np.round(rng.uniform(-3, 3, n) * den) / den, -3, 3)
        y[:4] = [0.0, -2.4, 1.6666666, 0.0]
    y = y.astype(np.float32)
    d = {
        'raw_text': np.array(['%s %s sample %d' % (kind, split, i) for i in range(n)]),
        'audio': audio,
        'vision': vision,
        'id': np.array(['video%d$_$%d' % (i // 3, i % 3) for i in range(n)]),
        'text_bert': text_bert,
        'annotations': np.array(['Positive' if v > 0 else 'Negative' if v < 0 else 'Neutral' for v in y]),
        'classification_labels': (np.sign(y) + 1).astype(np.float32),
        'regression_labels': y,
        'audio_lengths': a_len.astype(np.int64) if split != 'valid' else [int(v) for v in a_len],
        'vision_lengths': v_len.astype(np.int64) if split != 'valid' else [int(v) for v in v_len],
    }
    if kind == 'sims':
        for k in 'TAV':
            d['regression_labels_' + k] = (np.round(rng.uniform(-1, 1, n) * 5) / 5).astype(np.float32)
    return d


def make_data(kind, seed):
    rng = np.random.default_rng(seed)
    return {s: make_split(rng, kind, s, n, SHAPES[kind]) for s, n in SPLITS.items()}


def run(harness, prefix, data, dataset, init, sets, max_epochs):
    """One reference run; returns what it wrote besides its own files."""
    args = ['train', '--data', data, '--dataset', dataset, '--bert', os.path.join(OUT, 'bert'),
            '--no-dropout', '--max-epochs', str(max_epochs), '--out', prefix]
    if init:
        args += ['--init', init]
    for s in sets:
        args += ['--set', s]
    obs = prefix + '_observed.json'
    subprocess.run([sys.executable, '-c', OBSERVER, harness, obs] + args, check=True)
    with open(obs) as f:
        seen = json.load(f)
    os.remove(obs)
    with open(prefix + '_trace.json') as f:
        trace = json.load(f)
    assert seen['epochs'] == len(trace['epochs']), (seen, len(trace['epochs']))
    rel = lambda p: os.path.relpath(p, OUT) if p.startswith(OUT) else os.path.basename(p)
    info = {'harness': ['run_thuiar.py'] + [rel(a) if os.path.isabs(a) else a for a in args],
            'epochs': seen['epochs'], 'saved_best_after': seen['saved'],
            'best_epoch': seen['saved'][-1] if seen['saved'] else 0}
    with open(prefix + '_run.json', 'w') as f:
        json.dump(info, f, indent=1)
    print('%s: %d epochs, best %d, valid Loss %s' % (os.path.basename(prefix), info['epochs'], info['best_epoch'],
          ['%.6f' % e['valid']['Loss'] for e in trace['epochs']]))
    return info


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: gen_reference_train.py HARNESS_DIR')
    harness = os.path.abspath(sys.argv[1])
    sys.path.insert(0, harness)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):              # everything but the README is written here
        if name != 'README.md':
            (shutil.rmtree if os.path.isdir(os.path.join(OUT, name)) else os.remove)(os.path.join(OUT, name))
    make_bert(os.path.join(OUT, 'bert'))
    zero_lr = ['learning_rate_bert=0', 'learning_rate_audio=0', 'learning_rate_video=0', 'learning_rate_other=0']
    P = lambda name: os.path.join(OUT, name)
    tmp = tempfile.mkdtemp(prefix='gen_reference_train-')
    try:
        for kind, seed in (('sims', 6), ('mosi', 1)):  # seeds whose best epoch is 2 and 3
            with open(P(kind + '.pkl'), 'wb') as f:
                pickle.dump(make_data(kind, seed), f, protocol=4)
            # Learning rates 0: the validation Loss is the same every epoch; with the
            # reference's 1e-6 margin the run stops after 1 + early_stop epochs. Its best
            # model is the initial one: the init of every other run.
            info = run(harness, P(kind + '_lr0'), P(kind + '.pkl'), kind, None,
                       ['batch_size=8', 'early_stop=2'] + zero_lr, 10)
            assert (info['epochs'], info['best_epoch']) == (3, 1), info
            os.rename(P(kind + '_lr0_best.pth'), P(kind + '_init.pth'))
            # The acceptance case: the preset, batches of 8, three epochs.
            info = run(harness, P(kind), P(kind + '.pkl'), kind, P(kind + '_init.pth'), ['batch_size=8'], 3)
            assert info['best_epoch'] == {'sims': 2, 'mosi': 3}[kind], info   # the test relies on mosi's
            first = [json.load(open(P(k + '_trace.json')))['batches'][0]['loss'] for k in (kind + '_lr0', kind)]
            assert first[0] == first[1], first  # *_init.pth is where the seeded run started
        os.remove(P('sims_best.pth'))  # size: one best model (mosi's, 3 Adam steps) is kept
        # Early stopping while the Loss moves: SIMS improves for three epochs, then stops
        # after early_stop = 2 worse ones; MOSI (a step per batch) is worse twice, improves
        # once more in time, then stops after early_stop = 3 worse ones. Learning rates
        # near the presets': larger ones make the trajectory amplify float32 rounding
        # (Adam turns noise in near-zero gradients into steps of lr) beyond the tests'
        # 1e-5 on losses.
        for name, kind, sets, shape in (
                ('sims_es', 'sims', ['early_stop=2', 'learning_rate_audio=0.001', 'learning_rate_video=0.001'], (5, 3)),
                ('mosi_es', 'mosi', ['early_stop=3', 'update_epochs=1', 'learning_rate_other=0.002',
                                     'learning_rate_audio=0.002', 'learning_rate_video=0.002'], (7, 4))):
            info = run(harness, P(name), P(kind + '.pkl'), kind, P(kind + '_init.pth'), ['batch_size=8'] + sets, 12)
            assert (info['epochs'], info['best_epoch']) == shape, info
            os.remove(P(name + '_best.pth'))
        # Word-aligned data: the LSTMs take the text length; the pickle the harness reads
        # carries lengths (its loader needs them), the committed one does not.
        data = make_data('mosi_aligned', 51)
        with open(os.path.join(tmp, 'mosi_aligned.pkl'), 'wb') as f:
            pickle.dump(data, f, protocol=4)
        for d in data.values():
            del d['audio_lengths'], d['vision_lengths']
        with open(P('mosi_aligned.pkl'), 'wb') as f:
            pickle.dump(data, f, protocol=4)
        run(harness, P('mosi_aligned'), os.path.join(tmp, 'mosi_aligned.pkl'), 'mosi', P('mosi_init.pth'),
            ['batch_size=8', 'need_data_aligned=True'], 3)
        os.remove(P('mosi_aligned_best.pth'))
    finally:
        shutil.rmtree(tmp)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print('wrote %s: %d bytes' % (OUT, total))


if __name__ == '__main__':
    main()
