"""selfmm_ref.py -- the reference Self-MM network in plain PyTorch, for fixtures.

A faithful re-statement of what the reference code computes (thuiar/Self-MM with
transformers 2.10's BertModel), written with the same module names so that
`AMIO(cfg).state_dict()` has exactly the reference's keys ("Model.text_model.model.
embeddings.word_embeddings.weight", ...). Debian has python3-torch but not
transformers, hence the re-statement; every line names the reference behaviour
it reproduces. Never used by the build or the tests.

Fixtures whose values the reference defines come from the reference's own code
(tools/harness_ref.py, through the reference harness), not from this file. What still
uses it: tools/gen_io_fixtures.py, for loader fixtures where only the state_dict layout
matters (tests/fixtures/model_ref.names.txt, written from the reference model, holds the
same order), and tools/gen_train_reference.py until the harness-run training fixtures
replace it.

cfg is a dict with libselfmm's config keys (see `selfmm-cli config`), e.g.
    tiny_config() below.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence


def tiny_config(**over):
    """A small Self-MM: tiny BERT, small LSTMs, the real head structure."""
    cfg = dict(
        dataset="sims", batch_size=4,
        learning_rate_bert=5e-5, learning_rate_audio=5e-3, learning_rate_video=5e-3,
        learning_rate_other=1e-3, weight_decay_bert=1e-3, weight_decay_audio=1e-2,
        weight_decay_video=1e-2, weight_decay_other=1e-3,
        a_lstm_hidden_size=6, v_lstm_hidden_size=8, audio_out=5, video_out=7,
        post_fusion_dim=12, post_text_dim=10, post_audio_dim=6, post_video_dim=9,
        post_fusion_dropout=0.0, post_text_dropout=0.0, post_audio_dropout=0.0,
        post_video_dropout=0.0, a_lstm_dropout=0.0, v_lstm_dropout=0.0,
        H=1.0, update_epochs=2, early_stop=8, exclude_zero=False, tail_step=False,
        valid_loss_decimals=-1, audio_dim=4, video_dim=6,
        vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=24, max_position_embeddings=20, type_vocab_size=2,
        layer_norm_eps=1e-12, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        initializer_range=0.02,
    )
    cfg.update(over)
    return cfg


def gelu(x):
    # transformers 2.10 `gelu`: the exact erf form
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], H, padding_idx=0)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], H)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], H)
        self.LayerNorm = nn.LayerNorm(H, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, input_ids, token_type_ids):
        L = input_ids.size(1)
        position_ids = torch.arange(L, dtype=torch.long).unsqueeze(0).expand_as(input_ids)
        # words + positions + token types, in that order (BertEmbeddings.forward)
        e = (self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
             + self.token_type_embeddings(token_type_ids))
        return self.dropout(self.LayerNorm(e))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.head_size = H // self.heads
        self.query = nn.Linear(H, H)
        self.key = nn.Linear(H, H)
        self.value = nn.Linear(H, H)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def split(self, x):
        B, L, _ = x.shape
        return x.view(B, L, self.heads, self.head_size).permute(0, 2, 1, 3)

    def forward(self, x, ext_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size)
        scores = scores + ext_mask
        probs = self.dropout(F.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size(0), ctx.size(1), -1)


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c["hidden_size"]
        self.dense = nn.Linear(H, H)
        self.LayerNorm = nn.LayerNorm(H, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, x, ext_mask):
        return self.output(self.self(x, ext_mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return gelu(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c["hidden_size"]
        self.dense = nn.Linear(c["intermediate_size"], H)
        self.LayerNorm = nn.LayerNorm(H, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x, ext_mask):
        a = self.attention(x, ext_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x, ext_mask):
        for layer in self.layer:
            x = layer(x, ext_mask)
        return x


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)
        self.init_range = c["initializer_range"]
        self.apply(self._init_weights)

    def _init_weights(self, m):
        # BertPreTrainedModel._init_weights (transformers 2.10): no re-zeroing of
        # the padding row
        if isinstance(m, (nn.Linear, nn.Embedding)):
            m.weight.data.normal_(mean=0.0, std=self.init_range)
        elif isinstance(m, nn.LayerNorm):
            m.bias.data.zero_()
            m.weight.data.fill_(1.0)
        if isinstance(m, nn.Linear) and m.bias is not None:
            m.bias.data.zero_()

    def forward(self, input_ids, attention_mask, token_type_ids):
        # get_extended_attention_mask: (1 - mask) * -10000 on key positions
        ext = attention_mask[:, None, None, :].to(torch.float32)
        ext = (1.0 - ext) * -10000.0
        x = self.encoder(self.embeddings(input_ids, token_type_ids), ext)
        return x, self.pooler(x)


class BertTextEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = BertModel(c)

    def forward(self, text):
        # text: (B, 3, L) floats as stored in the pickles
        input_ids, input_mask, segment_ids = text[:, 0, :].long(), text[:, 1, :].float(), text[:, 2, :].long()
        return self.model(input_ids=input_ids, attention_mask=input_mask, token_type_ids=segment_ids)[0]


class AuViSubNet(nn.Module):
    def __init__(self, in_size, hidden_size, out_size, dropout):
        super().__init__()
        self.rnn = nn.LSTM(in_size, hidden_size, num_layers=1, dropout=0.0, bidirectional=False,
                           batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.linear_1 = nn.Linear(hidden_size, out_size)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths.cpu().long(), batch_first=True, enforce_sorted=False)
        _, final_states = self.rnn(packed)
        # the reference uses .squeeze(), which drops the batch axis at B = 1; squeeze(0) keeps it
        h = self.dropout(final_states[0].squeeze(0))
        return self.linear_1(h)


class SELF_MM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.text_model = BertTextEncoder(c)
        self.audio_model = AuViSubNet(c["audio_dim"], c["a_lstm_hidden_size"], c["audio_out"], c["a_lstm_dropout"])
        self.video_model = AuViSubNet(c["video_dim"], c["v_lstm_hidden_size"], c["video_out"], c["v_lstm_dropout"])
        H = c["hidden_size"]
        self.post_fusion_dropout = nn.Dropout(p=c["post_fusion_dropout"])
        self.post_fusion_layer_1 = nn.Linear(H + c["video_out"] + c["audio_out"], c["post_fusion_dim"])
        self.post_fusion_layer_2 = nn.Linear(c["post_fusion_dim"], c["post_fusion_dim"])
        self.post_fusion_layer_3 = nn.Linear(c["post_fusion_dim"], 1)
        self.post_text_dropout = nn.Dropout(p=c["post_text_dropout"])
        self.post_text_layer_1 = nn.Linear(H, c["post_text_dim"])
        self.post_text_layer_2 = nn.Linear(c["post_text_dim"], c["post_text_dim"])
        self.post_text_layer_3 = nn.Linear(c["post_text_dim"], 1)
        self.post_audio_dropout = nn.Dropout(p=c["post_audio_dropout"])
        self.post_audio_layer_1 = nn.Linear(c["audio_out"], c["post_audio_dim"])
        self.post_audio_layer_2 = nn.Linear(c["post_audio_dim"], c["post_audio_dim"])
        self.post_audio_layer_3 = nn.Linear(c["post_audio_dim"], 1)
        self.post_video_dropout = nn.Dropout(p=c["post_video_dropout"])
        self.post_video_layer_1 = nn.Linear(c["video_out"], c["post_video_dim"])
        self.post_video_layer_2 = nn.Linear(c["post_video_dim"], c["post_video_dim"])
        self.post_video_layer_3 = nn.Linear(c["post_video_dim"], 1)

    def forward(self, text, audio, video):
        audio, audio_lengths = audio
        video, video_lengths = video
        text = self.text_model(text)[:, 0, :]
        audio = self.audio_model(audio, audio_lengths)
        video = self.video_model(video, video_lengths)
        fusion_h = torch.cat([text, audio, video], dim=-1)
        fusion_h = self.post_fusion_dropout(fusion_h)
        fusion_h = F.relu(self.post_fusion_layer_1(fusion_h), inplace=False)
        text_h = self.post_text_dropout(text)
        text_h = F.relu(self.post_text_layer_1(text_h), inplace=False)
        audio_h = self.post_audio_dropout(audio)
        audio_h = F.relu(self.post_audio_layer_1(audio_h), inplace=False)
        video_h = self.post_video_dropout(video)
        video_h = F.relu(self.post_video_layer_1(video_h), inplace=False)
        x_f = F.relu(self.post_fusion_layer_2(fusion_h), inplace=False)
        output_fusion = self.post_fusion_layer_3(x_f)
        x_t = F.relu(self.post_text_layer_2(text_h), inplace=False)
        output_text = self.post_text_layer_3(x_t)
        x_a = F.relu(self.post_audio_layer_2(audio_h), inplace=False)
        output_audio = self.post_audio_layer_3(x_a)
        x_v = F.relu(self.post_video_layer_2(video_h), inplace=False)
        output_video = self.post_video_layer_3(x_v)
        return {
            "M": output_fusion, "T": output_text, "A": output_audio, "V": output_video,
            "Feature_t": text_h, "Feature_a": audio_h, "Feature_v": video_h, "Feature_f": fusion_h,
        }


class AMIO(nn.Module):
    """MMSA's wrapper: gives every key its "Model." prefix."""

    def __init__(self, c):
        super().__init__()
        self.Model = SELF_MM(c)

    def forward(self, text, audio, video):
        return self.Model(text, audio, video)


def weighted_l1(pred, y, y_fusion, fusion):
    """The reference trainer's weighted_loss: mean(w * |pred - y|), w = 1 for the
    fusion head and tanh(|y_m - y_fusion|) for the unimodal heads (a constant)."""
    pred, y = pred.view(-1), y.view(-1)
    w = torch.ones_like(pred) if fusion else torch.tanh(torch.abs(y - y_fusion.view(-1)))
    return torch.mean(w * torch.abs(pred - y))
