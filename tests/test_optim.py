"""course_utils.optim.SGD against torch.optim.SGD: the same parameters, bit for bit, every step."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from course_utils.optim import SGD

# Every valid combination; Nesterov needs momentum and no dampening (checked in test_bad_inputs).
OPTIONS = [dict(momentum=m, dampening=d, weight_decay=wd, nesterov=n)
           for m, d, wd, n in itertools.product((0.0, 0.9), (0.0, 0.5), (0.0, 0.01), (False, True))
           if not n or (m > 0 and d == 0)]
INVALID_NESTEROV = [dict(momentum=m, dampening=d, nesterov=True)
                    for m, d in itertools.product((0.0, 0.9), (0.0, 0.5)) if m == 0 or d != 0]


def option_id(options):
    return "-".join(f"{k}={v}" for k, v in options.items())


def make_mlp(seed=0):
    """A small float64 MLP; nn.Linear's init draws from the global RNG, so fork it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3)).double()


def make_data(seed=0, n=64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=g, dtype=torch.float64), torch.randn(n, 3, generator=g,
                                                                            dtype=torch.float64)


def train_step(model, optimizer, x, y, step):
    batch = slice(8 * (step % 8), 8 * (step % 8) + 8)  # a different batch each step
    optimizer.zero_grad()
    nn.functional.mse_loss(model(x[batch]), y[batch]).backward()
    optimizer.step()


def assert_same(model_a, model_b):
    for (name, a), b in zip(model_a.named_parameters(), model_b.parameters(), strict=True):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("options", OPTIONS, ids=option_id)
def test_matches_torch_sgd_bitwise_at_every_step(options):
    x, y = make_data()
    ours, theirs = make_mlp(), make_mlp()
    opt_ours = SGD(ours.parameters(), lr=0.1, **options)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1, **options)
    for step in range(10):
        train_step(ours, opt_ours, x, y, step)
        train_step(theirs, opt_theirs, x, y, step)
        assert_same(ours, theirs)
    assert len(opt_ours.state) == len(opt_theirs.state)  # momentum buffers only if momentum
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
        if options["momentum"]:
            assert torch.equal(opt_ours.state[p_ours]["momentum_buffer"],
                               opt_theirs.state[p_theirs]["momentum_buffer"])


def test_param_groups_with_their_own_settings_match_torch():
    x, y = make_data()
    models = make_mlp(), make_mlp()
    opts = [cls([{"params": m[0].parameters(), "lr": 0.05, "nesterov": True},
                 {"params": m[2].parameters(), "weight_decay": 0.1, "dampening": 0.3}],
                lr=0.2, momentum=0.8)
            for cls, m in zip((SGD, torch.optim.SGD), models)]
    for step in range(10):
        for model, opt in zip(models, opts):
            train_step(model, opt, x, y, step)
        assert_same(*models)


@pytest.mark.parametrize("direction", ["torch_to_ours", "ours_to_torch"])
def test_state_dict_interoperates_mid_run(direction):
    x, y = make_data()
    options = dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    first, second = (torch.optim.SGD, SGD)[::1 if direction == "torch_to_ours" else -1]
    straight = make_mlp()
    opt = torch.optim.SGD(straight.parameters(), **options)
    for step in range(10):
        train_step(straight, opt, x, y, step)

    model = make_mlp()
    opt = first(model.parameters(), **options)
    for step in range(5):
        train_step(model, opt, x, y, step)
    state = opt.state_dict()
    opt = second(model.parameters(), **options)
    opt.load_state_dict(state)
    for step in range(5, 10):
        train_step(model, opt, x, y, step)
    assert_same(model, straight)


def test_state_dict_has_torch_layout():
    x, y = make_data()
    ours, theirs = make_mlp(), make_mlp()
    opts = SGD(ours.parameters(), momentum=0.9), torch.optim.SGD(theirs.parameters(), momentum=0.9)
    for model, opt in zip((ours, theirs), opts):
        train_step(model, opt, x, y, 0)
    state_ours, state_theirs = (opt.state_dict() for opt in opts)
    assert state_ours["state"].keys() == state_theirs["state"].keys() == {0, 1, 2, 3}
    assert all(s.keys() == {"momentum_buffer"} for s in state_ours["state"].values())


def test_step_goes_against_the_gradient_by_hand():
    # L = 3p, so ∇L = 3 whatever p is: with momentum 0.5 the buffer is 3, then 0.5·3 + 3 = 4.5.
    p = torch.tensor([2.0], requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.5)
    values = []
    for _ in range(2):
        opt.zero_grad()
        (3 * p).sum().backward()
        opt.step()
        values.append(p.item())
    assert values == pytest.approx([2.0 - 0.3, 2.0 - 0.3 - 0.45])


def test_closure_loss_is_returned_and_parameters_without_grad_are_left_alone():
    a, b = torch.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    opt = SGD([a, b], lr=0.5, momentum=0.9)

    def closure():
        opt.zero_grad()
        loss = (a ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 1.0
    assert a.item() == 0.0 and b.item() == 1.0
    assert b not in opt.state  # no gradient, so no momentum buffer either


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.0), dict(lr=-0.1), dict(momentum=-0.1), dict(dampening=-0.1), dict(dampening=1.5),
    dict(weight_decay=-1e-4), *INVALID_NESTEROV,
], ids=lambda kwargs: option_id(kwargs))
def test_bad_inputs_raise_value_error(kwargs):
    param = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        SGD([param], **kwargs)
    if "nesterov" in kwargs:  # torch rejects these too
        with pytest.raises(ValueError):
            torch.optim.SGD([param], **kwargs)


@pytest.mark.parametrize("kwargs", [dict(lr="0.1"), dict(momentum=None), dict(lr=True),
                                    dict(nesterov=1)])
def test_wrong_types_raise_type_error(kwargs):
    with pytest.raises(TypeError):
        SGD([torch.zeros(2, requires_grad=True)], **kwargs)


def test_torch_options_it_does_not_implement_are_refused():
    p = torch.zeros(2, requires_grad=True)
    state = torch.optim.SGD([p], lr=0.1, maximize=True).state_dict()
    opt = SGD([p], lr=0.1)
    opt.load_state_dict(state)
    p.grad = torch.ones(2)
    with pytest.raises(NotImplementedError, match="maximize"):
        opt.step()


def test_every_way_in_checks_the_settings():
    p, q = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))
    optimizer = SGD([p], lr=0.1)
    for bad_group in ({"params": [q], "lr": float("nan")}, {"params": [q], "momentum": -1}):
        with pytest.raises(ValueError):
            optimizer.add_param_group(bad_group)
    assert len(optimizer.param_groups) == 1  # nothing was added
    optimizer.add_param_group({"params": [q], "lr": 0.5})
    assert optimizer.param_groups[1]["lr"] == 0.5 and optimizer.param_groups[1]["momentum"] == 0
    state = optimizer.state_dict()
    state["param_groups"][0]["lr"] = float("nan")
    with pytest.raises(ValueError, match="lr must be"):
        optimizer.load_state_dict(state)
    assert optimizer.param_groups[0]["lr"] == 0.1
    with pytest.raises(TypeError, match="closure"):
        optimizer.step(closure=5)
    with pytest.raises(TypeError, match=r"params\[0\]"):
        SGD([1, 2], lr=0.1)
    np = pytest.importorskip("numpy")
    group = SGD([p], lr=np.float32(0.5), momentum=np.int64(0)).param_groups[0]
    assert (type(group["lr"]), type(group["momentum"])) == (float, float)
