"""course_utils.model against transformers' GPT2LMHeadModel: same names, logits and gradients."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import multihead
from course_utils.model import GPT, GPTConfig, KVCache, gelu_new
from course_utils.multihead import MultiHeadAttention

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}  # max abs error allowed on logits, per dtype
DTYPES = list(TOL)
# Hugging Face stores these (in, out), transposed from nn.Linear's (out, in)
CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight",
                  "mlp.c_proj.weight")

# Small configs: 1-3 layers, 1-4 heads, odd vocab sizes; each is run at T = block_size.
CONFIGS = [
    GPTConfig(vocab_size=101, block_size=16, n_layer=1, n_head=1, n_embd=8),
    GPTConfig(vocab_size=257, block_size=24, n_layer=2, n_head=4, n_embd=32),
    GPTConfig(vocab_size=77, block_size=9, n_layer=3, n_head=3, n_embd=12, layer_norm_epsilon=1e-6),
]


def config_id(c: GPTConfig) -> str:
    return f"V{c.vocab_size}-T{c.block_size}-L{c.n_layer}-H{c.n_head}-C{c.n_embd}"


def hf_config(c: GPTConfig, **overrides):
    from transformers import GPT2Config

    return GPT2Config(vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd,
                      n_layer=c.n_layer, n_head=c.n_head, layer_norm_epsilon=c.layer_norm_epsilon,
                      bos_token_id=None, eos_token_id=None, **overrides)


@torch.no_grad()
def perturb(module, seed):
    """Add noise to every parameter, so zero biases and unit LayerNorm gains are tested too."""
    g = torch.Generator().manual_seed(seed)
    for p in module.parameters():
        p.add_(0.05 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def random_hf_model(c: GPTConfig, dtype, seed, **overrides):
    from transformers import GPT2LMHeadModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # GPT2LMHeadModel draws its init from the global RNG
        hf_model = GPT2LMHeadModel(hf_config(c, **overrides))
    return perturb(hf_model.to(dtype), seed).eval()


def random_input_ids(c: GPTConfig, B=3, T=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, c.vocab_size, (B, T or c.block_size), generator=g)


def max_abs_error(a, b):
    return (a - b).abs().max().item()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_from_hf_logits_equal(config, dtype):
    hf_model = random_hf_model(config, dtype, seed=1)
    model = GPT.from_hf(hf_model)
    assert not model.training and model.lm_head.weight.dtype == dtype
    for T in (config.block_size, 3):
        input_ids = random_input_ids(config, T=T)
        logits = model(input_ids)
        assert logits.shape == (3, T, config.vocab_size)
        assert max_abs_error(logits, hf_model(input_ids).logits) <= TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_to_hf_logits_equal(config, dtype):
    model = perturb(GPT(config, seed=2).to(dtype), seed=2).eval()
    hf_model = model.to_hf()
    assert not hf_model.training and hf_model.lm_head.weight.dtype == dtype
    assert hf_model.config.activation_function == "gelu_new" and hf_model.config.n_inner is None
    input_ids = random_input_ids(config, seed=1)
    assert max_abs_error(model(input_ids), hf_model(input_ids).logits) <= TOL[dtype]


def test_from_hf_accepts_gelu_pytorch_tanh():
    # the same tanh formula evaluated by torch's kernel: equal up to float32 rounding
    config = CONFIGS[1]
    hf_model = random_hf_model(config, torch.float32, seed=3,
                               activation_function="gelu_pytorch_tanh")
    input_ids = random_input_ids(config)
    ours = GPT.from_hf(hf_model)(input_ids)
    assert max_abs_error(ours, hf_model(input_ids).logits) <= TOL[torch.float32]


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_gradients_equal_hf_for_every_parameter(config):
    hf_model = random_hf_model(config, torch.float64, seed=4)
    model = GPT.from_hf(hf_model)
    input_ids, targets = random_input_ids(config, seed=5), random_input_ids(config, seed=6)
    for m in (model, hf_model):
        logits = m(input_ids) if m is model else m(input_ids).logits
        F.cross_entropy(logits.flatten(0, 1), targets.flatten()).backward()
    ours, theirs = dict(model.named_parameters()), dict(hf_model.named_parameters())
    assert ours.keys() == theirs.keys()  # named_parameters lists the tied matrix once, in both
    for name, p in ours.items():
        expected = theirs[name].grad.t() if name.endswith(CONV1D_WEIGHTS) else theirs[name].grad
        torch.testing.assert_close(p.grad, expected, atol=1e-10, rtol=0, msg=name)


def test_round_trip_gives_identical_state_dict():
    model = perturb(GPT(CONFIGS[1], seed=7), seed=7)
    back = GPT.from_hf(model.to_hf())
    assert back.config == model.config
    theirs = back.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, theirs[name]), name


def test_local_copy_loads_as_the_offline_error_suggests(tmp_path):
    from transformers import GPT2LMHeadModel

    model = perturb(GPT(CONFIGS[1], seed=8), seed=8).eval()
    model.to_hf().save_pretrained(tmp_path)
    loaded = GPT.from_hf(GPT2LMHeadModel.from_pretrained(tmp_path))
    input_ids = random_input_ids(CONFIGS[1])
    assert torch.equal(loaded(input_ids), model(input_ids))


def test_state_dict_names_are_gpt2_checkpoint_names():
    # Weights transfer by name: the keys are exactly GPT2LMHeadModel's. (Older transformers also
    # stored attn.bias / attn.masked_bias mask buffers in the state dict; 5.x does not.)
    config = CONFIGS[2]
    ours = GPT(config).state_dict()
    theirs = random_hf_model(config, torch.float32, seed=0).state_dict()
    assert list(ours) == list(theirs)
    for name, tensor in ours.items():
        shape = theirs[name].shape[::-1] if name.endswith(CONV1D_WEIGHTS) else theirs[name].shape
        assert tensor.shape == shape, name


def test_embeddings_are_tied():
    model = GPT(CONFIGS[0])
    assert model.lm_head.weight is model.transformer.wte.weight
    model64 = GPT.from_hf(random_hf_model(CONFIGS[0], torch.float64, seed=0))
    assert model64.lm_head.weight is model64.transformer.wte.weight


def test_init_is_deterministic_for_a_seed_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b, c = GPT(CONFIGS[1], seed=1), GPT(CONFIGS[1], seed=1), GPT(CONFIGS[1], seed=2)
    assert torch.equal(torch.random.get_rng_state(), state)
    for name, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[name]), name
    assert not torch.equal(a.transformer.wte.weight, c.transformer.wte.weight)
    a.init_weights(seed=2)
    assert torch.equal(a.transformer.h[1].mlp.c_fc.weight, c.transformer.h[1].mlp.c_fc.weight)


def test_init_follows_gpt2():
    config = GPTConfig(vocab_size=1000, block_size=64, n_layer=8, n_head=4, n_embd=128)
    model = GPT(config)
    block = model.transformer.h[0]
    assert torch.equal(block.ln_1.weight, torch.ones(128))
    assert torch.equal(block.ln_1.bias, torch.zeros(128))
    assert torch.equal(block.attn.c_attn.bias, torch.zeros(3 * 128))
    assert model.transformer.wte.weight.std().item() == pytest.approx(0.02, rel=0.02)
    # residual projections are scaled down by 1/√(2·n_layer) = 1/4
    assert block.mlp.c_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.02)
    assert block.attn.c_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)


def test_num_parameters_of_gpt2_small_equals_hf():
    from transformers import GPT2Config, GPT2LMHeadModel

    with torch.device("meta"):  # shapes only: nothing is allocated or drawn
        ours = GPT(GPTConfig())
        theirs = GPT2LMHeadModel(GPT2Config())
    assert ours.num_parameters() == theirs.num_parameters() == 124_439_808
    # without the 50257·768 token and 1024·768 position embeddings
    non_embedding = ours.num_parameters(non_embedding=True)
    assert non_embedding == 124_439_808 - 50257 * 768 - 1024 * 768 == 85_056_000


def test_each_block_is_the_course_multi_head_attention(monkeypatch):
    model = GPT(CONFIGS[2])
    assert all(type(block.attn) is MultiHeadAttention for block in model.transformer.h)
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[4] if len(args) > 4 else kwargs.get("is_causal"))
        return scaled_dot_product_attention(*args, **kwargs)

    scaled_dot_product_attention = multihead.scaled_dot_product_attention
    monkeypatch.setattr(multihead, "scaled_dot_product_attention", spy)
    model(random_input_ids(CONFIGS[2]))
    assert calls == [True] * CONFIGS[2].n_layer


def test_future_tokens_do_not_change_past_logits():
    model = GPT(CONFIGS[1]).eval()
    input_ids = random_input_ids(CONFIGS[1], B=1)
    changed = input_ids.clone()
    changed[0, 10:] = (changed[0, 10:] + 1) % CONFIGS[1].vocab_size
    torch.testing.assert_close(model(input_ids)[:, :10], model(changed)[:, :10], atol=0, rtol=0)


def test_dropout_is_active_only_in_training():
    config = GPTConfig(vocab_size=50, block_size=8, n_layer=1, n_head=2, n_embd=16, dropout=0.5)
    model, input_ids = GPT(config), random_input_ids(config)
    assert not torch.equal(model.train()(input_ids), model(input_ids))
    assert torch.equal(model.eval()(input_ids), model(input_ids))


def written_out_forward(model: GPT, input_ids: torch.Tensor) -> torch.Tensor:
    """GPT-2's forward pass in functional ops, with dropout where GPT-2 has it, in its order:
    embeddings, then per block the attention weights, the attention output, the MLP output."""
    c, tr, p = model.config, model.transformer, model.config.dropout
    (B, T), C, nh = input_ids.shape, model.config.n_embd, model.config.n_head
    x = F.dropout(tr.wte.weight[input_ids] + tr.wpe.weight[:T], p)
    for block in tr.h:
        h = F.layer_norm(x, (C,), block.ln_1.weight, block.ln_1.bias, c.layer_norm_epsilon)
        q, k, v = (t.view(B, T, nh, C // nh).transpose(1, 2) for t in
                   F.linear(h, block.attn.c_attn.weight, block.attn.c_attn.bias).split(C, -1))
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // nh)
        weights = scores.masked_fill(~torch.ones(T, T).tril().bool(), -math.inf).softmax(-1)
        y = (F.dropout(weights, p) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + F.dropout(F.linear(y, block.attn.c_proj.weight, block.attn.c_proj.bias), p)
        h = F.layer_norm(x, (C,), block.ln_2.weight, block.ln_2.bias, c.layer_norm_epsilon)
        h = gelu_new(F.linear(h, block.mlp.c_fc.weight, block.mlp.c_fc.bias))
        x = x + F.dropout(F.linear(h, block.mlp.c_proj.weight, block.mlp.c_proj.bias), p)
    x = F.layer_norm(x, (C,), tr.ln_f.weight, tr.ln_f.bias, c.layer_norm_epsilon)
    return x @ tr.wte.weight.T


def test_dropout_draws_in_gpt2_order_so_training_runs_stay_reproducible():
    # The same seed must give the same dropout masks as before the attention became one module:
    # checkpoints resume bit for bit, and data/reference_model's numbers can be re-measured.
    config = GPTConfig(vocab_size=50, block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.3)
    model = perturb(GPT(config, seed=1), seed=1).double().train()
    input_ids = random_input_ids(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ours = model(input_ids)
        torch.manual_seed(0)
        expected = written_out_forward(model, input_ids)
    torch.testing.assert_close(ours, expected, atol=1e-10, rtol=0)


def test_input_ids_may_be_passed_by_position_or_by_name():
    model, input_ids = GPT(CONFIGS[0]).eval(), random_input_ids(CONFIGS[0])
    assert torch.equal(model(input_ids), model(input_ids=input_ids))


def test_a_cache_from_another_model_is_refused_and_left_as_it_was():
    small = GPT(GPTConfig(vocab_size=101, block_size=16, n_layer=1, n_head=1, n_embd=8)).eval()
    cache = KVCache()
    with torch.no_grad():
        small(random_input_ids(CONFIGS[0], B=1, T=4), kv_cache=cache)
        keys = cache.keys[0].clone()
        deeper = GPT(GPTConfig(vocab_size=101, block_size=16, n_layer=2, n_head=1, n_embd=8))
        with pytest.raises(ValueError, match="kv_cache holds 1 layers of 1 heads of size 8"):
            deeper(random_input_ids(CONFIGS[0], B=1, T=1), kv_cache=cache)
        with pytest.raises(ValueError, match="out of range"):
            small(torch.tensor([[101]]), kv_cache=cache)
    assert len(cache.keys) == 1 and torch.equal(cache.keys[0], keys)


def test_config_keeps_plain_python_numbers():
    config = GPTConfig(vocab_size=np.int64(10), n_layer=np.int32(2), dropout=np.float32(0.5),
                       layer_norm_epsilon=1)
    assert type(config.vocab_size) is int and type(config.n_layer) is int
    assert type(config.dropout) is float and config.layer_norm_epsilon == 1.0


def test_config_is_frozen_and_a_changed_copy_is_checked_again():
    config = CONFIGS[1]
    with pytest.raises(dataclasses.FrozenInstanceError, match="n_head"):
        config.n_head = 3  # would make a model whose heads do not divide n_embd
    assert dataclasses.replace(config, n_layer=1).n_layer == 1 and config.n_layer == 2
    with pytest.raises(ValueError, match="n_embd=32 is not divisible by n_head=3"):
        dataclasses.replace(config, n_head=3)
    assert type(dataclasses.replace(config, n_layer=np.int64(1)).n_layer) is int
    assert hash(config) == hash(dataclasses.replace(config))  # frozen: usable as a dict key


def test_numpy_seeds_give_the_model_of_the_same_int_seed():
    expected = GPT(CONFIGS[0], seed=3).state_dict()
    for seed in (np.int64(3), np.uint64(3), np.int8(3)):
        model = GPT(CONFIGS[0], seed=seed)
        assert all(torch.equal(t, expected[name]) for name, t in model.state_dict().items())
        model.init_weights(np.uint64(5))
        again = GPT(CONFIGS[0], seed=5).state_dict()
        assert all(torch.equal(t, again[name]) for name, t in model.state_dict().items())


def test_a_model_too_big_for_memory_is_refused_but_may_be_counted_on_meta():
    config = GPTConfig(vocab_size=2**36, block_size=8, n_layer=1, n_head=1, n_embd=4)
    with pytest.raises(MemoryError, match="vocab_size=68719476736, block_size=8, n_layer=1"):
        GPT(config)  # 2**38 parameters: 1 TB of float32
    with torch.device("meta"):  # shapes only: the size of GPT-3 is a number, not an allocation
        model = GPT(config)
    assert model.num_parameters() == (2**36 + 8 + 2) * 4 + 12 * 16 + 13 * 4
    with torch.device("meta"), pytest.raises(ValueError, match="64-bit"):
        GPT(dataclasses.replace(config, vocab_size=2**62))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_model_on_the_gpu_refuses_a_cache_and_ids_from_the_cpu():
    config = CONFIGS[1]
    cpu, gpu = GPT(config, seed=1).eval(), GPT(config, seed=1).cuda().eval()
    input_ids, cache = random_input_ids(config, B=1, T=4), KVCache()
    with torch.no_grad():
        torch.testing.assert_close(gpu(input_ids.cuda()).cpu(), cpu(input_ids), atol=1e-4,
                                   rtol=1e-4)
        cpu(input_ids, kv_cache=cache)
        with pytest.raises(ValueError, match="input_ids is on cpu but the model is on cuda"):
            gpu(input_ids)
        with pytest.raises(ValueError, match="new KVCache"):
            gpu(input_ids[:, :1].cuda(), kv_cache=cache)
    assert len(cache) == 4 and cache.keys[0].device.type == "cpu"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_embd=10, n_head=3), ValueError,
     r"n_embd=10 is not divisible by n_head=3; use n_head in \[1, 2, 5, 10\]"),
    (dict(vocab_size=0), ValueError, "vocab_size must be an int >= 1"),
    (dict(n_layer=2.0), TypeError, "n_layer must be an int >= 1"),
    (dict(dropout=1.0), ValueError, r"dropout must be a number in \[0, 1\)"),
    (dict(layer_norm_epsilon=0.0), ValueError, "layer_norm_epsilon must be a finite number > 0"),
])
def test_config_rejects_bad_values(kwargs, error, match):
    with pytest.raises(error, match=match):
        GPTConfig(**kwargs)


@pytest.mark.parametrize("input_ids, error, match", [
    ([[1, 2]], TypeError, "LongTensor"),
    (torch.ones(1, 2), TypeError, "LongTensor"),
    (torch.ones(1, 2, dtype=torch.bool), TypeError, "LongTensor"),
    (torch.ones(4, dtype=torch.long), ValueError, r"shape \(B, T\).*input_ids\[None\]"),
    (torch.ones(2, 0, dtype=torch.long), ValueError, r"shape \(B, T\) with T >= 1"),
    (torch.ones(1, 17, dtype=torch.long), ValueError, "T=17 exceeds block_size=16"),
    (torch.tensor([[1, 101]]), ValueError, r"token id 101 is out of range for vocab_size=101"),
    (torch.tensor([[-1, 3]]), ValueError, r"token id -1 is out of range"),
])
def test_forward_rejects_bad_input_ids(input_ids, error, match):
    with pytest.raises(error, match=match):
        GPT(CONFIGS[0])(input_ids)


def test_int32_ids_are_accepted():
    model, input_ids = GPT(CONFIGS[0]), random_input_ids(CONFIGS[0])
    assert torch.equal(model(input_ids.int()), model(input_ids))


@pytest.mark.parametrize("overrides, match", [
    (dict(activation_function="relu"), "activation_function"),
    (dict(scale_attn_weights=False), "scale_attn_weights=False"),
    (dict(scale_attn_by_inverse_layer_idx=True), "scale_attn_by_inverse_layer_idx"),
    (dict(reorder_and_upcast_attn=True), "reorder_and_upcast_attn"),
    (dict(n_inner=16), "n_inner"),
    (dict(attn_pdrop=0.0), "pdrop"),
    (dict(tie_word_embeddings=False), "untied lm_head"),
])
def test_from_hf_rejects_variants_it_cannot_represent(overrides, match):
    hf_model = random_hf_model(CONFIGS[0], torch.float32, seed=0, **overrides)
    with pytest.raises(ValueError, match=match):
        GPT.from_hf(hf_model)


def test_conversions_reject_what_they_cannot_convert():
    with pytest.raises(TypeError, match="GPT2LMHeadModel"):
        GPT.from_hf(GPT(CONFIGS[0]))
    with pytest.raises(ValueError, match="bias=True"):
        GPT(GPTConfig(vocab_size=10, block_size=4, n_layer=1, n_head=1, n_embd=4,
                      bias=False)).to_hf()
    with pytest.raises(TypeError, match="GPTConfig"):
        GPT(dict(vocab_size=10))


def test_from_pretrained_rejects_unknown_names():
    names = r"choose one of \['gpt2', 'gpt2-medium', 'gpt2-large', 'gpt2-xl'\]"
    with pytest.raises(ValueError, match=names):
        GPT.from_pretrained("gpt3")


@pytest.mark.parametrize("name", ["gpt2", "openai-community/gpt2-xl"])
def test_from_pretrained_offline_fails_fast_with_the_fix(name, monkeypatch, tmp_path):
    import huggingface_hub.constants

    # huggingface_hub reads HF_HUB_OFFLINE and its cache path once, at import; patch the values
    # it uses, and point the cache at an empty folder so a copy cached on this machine is not found.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    start = time.perf_counter()
    with pytest.raises(OSError) as info:
        GPT.from_pretrained(name)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "openai-community/gpt2" in message
    for fix in ("connect to the internet once", "unset HF_HUB_OFFLINE",
                "GPT.from_hf(GPT2LMHeadModel.from_pretrained("):
        assert fix in message


def test_importing_the_model_does_not_import_transformers():
    code = ("import sys, course_utils.attention, course_utils.model; "
            "print('transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
