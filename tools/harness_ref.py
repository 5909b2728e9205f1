"""harness_ref.py -- the reference's own code (thuiar/Self-MM), loaded through the
reference harness, for the fixture generators in tools/.

The harness folder (the one holding run_thuiar.py) is passed to every generator as an
argument. Importing run_thuiar puts its stubs (a HuggingFace-layout BERT standing in for
the `transformers` package), the harness and the reference's code on the import path, as
`run_thuiar.py train` runs it; nothing of the reference is restated here. This module only
builds the reference's objects the way run_thuiar.py does -- the config from
config/config_regression.py with keys set over it, the model models/AMIO.py (which holds
models/multiTask/SELF_MM.py) with its BERT loaded from a folder, the trainer
trains/multiTask/SELF_MM.py -- for small shapes of our choosing.

cfg dicts use libselfmm's config keys (`selfmm-cli config`), so the same dict is written
as the C test's config JSON and turned into the reference's args here.
"""
import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile

import torch


class Reference:
    """The reference's modules, on the import path run_thuiar.py sets up."""

    def __init__(self, harness):
        harness = os.path.abspath(harness)
        if not os.path.isfile(os.path.join(harness, "run_thuiar.py")):
            raise SystemExit(f"{harness}: no run_thuiar.py (pass the reference harness folder)")
        sys.path.insert(0, harness)
        import run_thuiar  # noqa: F401  (puts stubs/, the harness and thuiar-Self-MM on sys.path)
        import hf_bert
        from config.config_regression import ConfigRegression
        from models.AMIO import AMIO
        from utils.functions import Storage
        self.harness = harness
        self.hf_bert = hf_bert
        self.ConfigRegression, self.AMIO, self.Storage = ConfigRegression, AMIO, Storage
        # the module itself (trains/multiTask/__init__.py rebinds the name to the class)
        self.trainer_module = importlib.import_module("trains.multiTask.SELF_MM")

    def config(self, dataset, **over):
        """config_regression.py's args for self_mm on dataset, with keys set over them
        (what run_thuiar.py --set does)."""
        cli = argparse.Namespace(modelName="self_mm", datasetName=dataset, train_mode="regression")
        args = self.ConfigRegression(cli).get_config()
        args.update(dict(device=torch.device("cpu"), save_labels=False, cur_time=1), **over)
        return args

    def args_of(self, cfg, n=1):
        """The reference's args for a libselfmm config (model shape, optimizer, H)."""
        H = cfg["hidden_size"]
        over = {k: cfg[k] for k in (
            "batch_size", "learning_rate_bert", "learning_rate_audio", "learning_rate_video",
            "learning_rate_other", "weight_decay_bert", "weight_decay_audio", "weight_decay_video",
            "weight_decay_other", "a_lstm_hidden_size", "v_lstm_hidden_size", "audio_out",
            "video_out", "a_lstm_dropout", "v_lstm_dropout", "post_fusion_dim", "post_text_dim",
            "post_audio_dim", "post_video_dim", "post_fusion_dropout", "post_text_dropout",
            "post_audio_dropout", "post_video_dropout", "H", "update_epochs", "early_stop")}
        over.update(text_out=H, feature_dims=(H, cfg["audio_dim"], cfg["video_dim"]),
                    a_lstm_layers=1, v_lstm_layers=1, train_samples=n)
        if cfg.get("exclude_zero"):
            over["excludeZero"] = True
        return self.config(cfg["dataset"], **over)

    def model(self, cfg, bert_state=None):
        """models/AMIO.py for cfg, its BERT read by the stub's from_pretrained from a
        folder with cfg's BERT config.json and bert_state (default: hf_bert's own init),
        from a work folder holding pretrained_model/bert_cn and bert_en, as run_thuiar.py
        does. Returns the model in train mode."""
        keys = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                "intermediate_size", "max_position_embeddings", "type_vocab_size", "layer_norm_eps",
                "hidden_dropout_prob", "attention_probs_dropout_prob", "initializer_range")
        bert_cfg = {k: cfg[k] for k in keys}
        bert_cfg.update(model_type="bert", hidden_act="gelu")
        work = tempfile.mkdtemp(prefix="selfmm-ref-")
        cwd = os.getcwd()
        try:
            bert = os.path.join(work, "bert")
            os.makedirs(bert)
            with open(os.path.join(bert, "config.json"), "w") as f:
                json.dump(bert_cfg, f)
            if bert_state is None:
                bert_state = self.hf_bert.BertModel(dict(self.hf_bert.BERT_BASE, **bert_cfg)).state_dict()
            torch.save(bert_state, os.path.join(bert, "pytorch_model.bin"))
            os.makedirs(os.path.join(work, "pretrained_model"))
            for lang in ("bert_cn", "bert_en"):
                os.symlink(bert, os.path.join(work, "pretrained_model", lang))
            os.chdir(work)
            model = self.AMIO(self.Storage(self.args_of(cfg)))
        finally:
            os.chdir(cwd)
            shutil.rmtree(work)
        model.train()
        return model

    def trainer(self, cfg, n):
        """trains/multiTask/SELF_MM.py's SELF_MM for cfg and n training samples."""
        return self.trainer_module.SELF_MM(self.Storage(self.args_of(cfg, n)))

    def optimizer_groups(self, cfg, model):
        """The parameter groups the reference trainer gives torch.optim.Adam: do_train is run
        with its module's `optim` replaced by a stand-in whose Adam keeps the groups and
        stops the run (do_train builds them before anything else)."""
        class Captured(Exception):
            pass
        seen = {}

        class Optim:
            @staticmethod
            def Adam(groups, *a, **k):
                assert not a and not k, "the reference passes only the groups"
                seen["groups"] = groups
                raise Captured()

        t = self.trainer(cfg, 1)
        keep = self.trainer_module.optim
        self.trainer_module.optim = Optim
        try:
            t.do_train(model, None)
        except Captured:
            pass
        finally:
            self.trainer_module.optim = keep
        return seen["groups"]


def tiny_config(**over):
    """A small Self-MM in libselfmm's config keys: tiny BERT, small LSTMs, the real head
    structure; SIMS's dataset config underneath."""
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
