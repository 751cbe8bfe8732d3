"""The peers' way to check the same hand-written gradient (plain.py): a custom backward, then their checker.

Run: python docs/ways_in/peers.py (JAX always; torch when installed: pip install -e ".[bench]").
"""
import numpy as np
from plain import W, X, Y, dloss_dW, loss


def jax_check_grads():
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)

    @jax.custom_vjp
    def f(W):
        Z = X @ W
        return -jnp.sum(Y * jax.nn.log_softmax(Z, axis=1)) / X.shape[0]

    def f_fwd(W):
        return f(W), W

    def f_bwd(W, g):
        return (g * dloss_dW(np.asarray(W), X, Y),)  # the hand-written gradient

    f.defvjp(f_fwd, f_bwd)
    check_grads(f, (jnp.asarray(W),), order=1, modes=["rev"])


def torch_gradcheck():
    import torch

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, W):
            ctx.save_for_backward(W)
            return torch.as_tensor(loss(W.detach().numpy(), X, Y))

        @staticmethod
        def backward(ctx, g):
            (W,) = ctx.saved_tensors
            return g * torch.as_tensor(dloss_dW(W.detach().numpy(), X, Y))  # the hand-written gradient

    torch.autograd.gradcheck(F.apply, (torch.tensor(W, requires_grad=True),))


if __name__ == "__main__":
    for check in (jax_check_grads, torch_gradcheck):
        try:
            check()
            print(f"{check.__name__}: passed")
        except ImportError as exc:
            print(f"{check.__name__}: not run ({exc})")
        except Exception as exc:  # noqa: BLE001 - print what the peer prints
            print(f"{check.__name__}: {type(exc).__name__}: {exc}")
