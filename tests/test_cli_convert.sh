#!/bin/sh
# test_cli_convert.sh -- data-driven cases for `selfmm-cli convert`: arguments,
# expected exit code and message, then byte comparisons of what was written
# (both writers are deterministic).
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
fx=tests/fixtures/io
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tiny="--config $fx/selfmm_tiny_config.json"

suite="cli convert"
. tests/cli_cases.sh

# same NAME A B: the two files hold the same bytes
same() {
  if cmp -s "$2" "$3"; then echo "ok - cli convert $1"; else echo "# $2 and $3 differ"; echo "not ok - cli convert $1"; fi
}

case_ help          0 out "usage: selfmm-cli convert IN OUT" -- convert --help
case_ no_args       2 err "expects IN and OUT"               -- convert
case_ bad_ext       2 err "must end in .npz, .safetensors or .pth" -- convert "$fx/mmsa_p4.pkl" "$tmp/x.csv"
case_ model_in      2 err "a model input is a .pth"          -- convert "$fx/mmsa_p4.pkl" "$tmp/x.safetensors"
case_ npz_opts      2 err "apply to model conversions"       -- convert "$fx/mmsa_p4.pkl" "$tmp/x.npz" --preset sims
case_ model_opts    2 err "apply to datasets"                -- convert "$fx/selfmm_tiny.pth" "$tmp/x.safetensors" --nan-to-zero
case_ missing_in    1 err "no such file"                     -- convert /nonexistent.pkl "$tmp/x.npz"

# datasets
case_ pkl_to_npz    0 out ""                                 -- convert "$fx/mmsa_p4.pkl" "$tmp/p4.npz"
case_ npz_to_npz    0 out ""                                 -- convert "$tmp/p4.npz" "$tmp/p4b.npz"
same  npz_stable    "$tmp/p4.npz" "$tmp/p4b.npz"
case_ npz_info      0 out "format   npz"                     -- info "$tmp/p4.npz"
case_ p2_to_npz     0 out ""                                 -- convert "$fx/mmsa_p2.pkl" "$tmp/p2.npz"
case_ nan_fails     1 err "set nan_to_zero"                  -- convert "$fx/mmsa_nan.pkl" "$tmp/nan.npz"
case_ nan_zeroed    0 err "replaced 2 NaN/infinite values by 0" -- convert "$fx/mmsa_nan.pkl" "$tmp/nan.npz" --nan-to-zero
case_ len_fails     1 err "set clamp_lengths"                -- convert "$fx/mmsa_badlen.pkl" "$tmp/len.npz"
case_ len_clamped   0 err "clamped 2 lengths to [1, 7]"      -- convert "$fx/mmsa_badlen.pkl" "$tmp/len.npz" --clamp-lengths
case_ out_dir       1 err "/nonexistent-dir/x.npz"           -- convert "$fx/mmsa_p4.pkl" /nonexistent-dir/x.npz
case_ evil          1 err "refusing global 'builtins.eval'"  -- convert "$fx/evil_builtins_eval.pkl" "$tmp/evil.npz"

# models
case_ pth_no_cfg    1 err "(set by BERT's config.json)"      -- convert "$fx/selfmm_tiny.pth" "$tmp/m.safetensors"
case_ pth_config    0 out ""                                 -- convert "$fx/selfmm_tiny.pth" "$tmp/m.safetensors" $tiny
case_ pth_preset    0 out ""                                 -- convert "$fx/selfmm_tiny.pth" "$tmp/m2.safetensors" \
      --preset sims --bert "$fx/bert_zip" --set a_lstm_hidden_size=6 --set v_lstm_hidden_size=8 \
      --set audio_out=5 --set video_out=7 --set post_fusion_dim=12 --set post_text_dim=10 \
      --set post_audio_dim=6 --set post_video_dim=9 --set H=1.0 --set batch_size=4 \
      --set update_epochs=2 --set learning_rate_audio=5e-3 --set learning_rate_video=5e-3
case_ pth_wrong     1 err "(set by a_lstm_hidden_size, audio_dim)" -- convert "$fx/selfmm_tiny.pth" "$tmp/w.safetensors" $tiny --set a_lstm_hidden_size=7
case_ pth_posids    0 err "ignored 1 tensor not in the model" -- convert "$fx/selfmm_tiny_posids.pth" "$tmp/p.safetensors" $tiny
case_ pth_missing   1 err "no tensor \"Model.post_audio_layer_2.bias\"" -- convert "$fx/selfmm_tiny_missing.pth" "$tmp/x.safetensors" $tiny
case_ pth_missing_status 1 err "error: missing item: "          -- convert "$fx/selfmm_tiny_missing.pth" "$tmp/x.safetensors" $tiny
case_ native_opts   2 err "a model file holds its config"    -- convert "$tmp/m.safetensors" "$tmp/x.pth" --preset sims
case_ native_to_pth 0 out ""                                 -- convert "$tmp/m.safetensors" "$tmp/back.pth"
same  export_verified "$tmp/back.pth" "$fx/selfmm_tiny_export.pth"
case_ legacy_to_pth 0 out ""                                 -- convert "$fx/selfmm_tiny_legacy.pth" "$tmp/leg.pth" $tiny
same  legacy_same   "$tmp/leg.pth" "$fx/selfmm_tiny_export.pth"
case_ native_again  0 out ""                                 -- convert "$tmp/back.pth" "$tmp/m3.safetensors" $tiny
same  native_stable "$tmp/m.safetensors" "$tmp/m3.safetensors"
case_ not_native    1 err "without libselfmm metadata"       -- convert tests/fixtures/shared/checkpoints/coldfire_tiny_bert_safetensors/model.safetensors "$tmp/x.pth"
