"""The paper's own library, AlgoVision, as a reference: its README's bubble sort.

Used by the cross-check test and the benchmark. AlgoVision's ``beta`` is an inverse temperature
(``sigmoid(beta * (a - b))``); relaxc's is the temperature, so relaxc's β equals 1 / its ``beta``.
"""

import torch


def algovision_bubble_sort(inverse_temperature, device="cpu"):
    """AlgoVision's bubble sort: returns (sorted values, expected number of swaps)."""
    import algovision as av

    def scalar(value):
        return torch.tensor(value, device=device)

    return av.Algorithm(
        av.Input("array"),
        av.Var("a", scalar(0.)), av.Var("b", scalar(0.)),
        av.Var("swapped", scalar(1.)), av.Var("loss", scalar(0.)),
        av.VarInt("n", lambda array: array.shape[1] - 1),
        av.While(av.IsTrue("swapped"),
                 av.Let("swapped", 0),
                 av.For("i", "n",
                        av.Let("a", "array", ["i"]),
                        av.Let("b", "array", [lambda i: i + 1]),
                        av.If(av.GT("a", "b"), if_true=[
                            av.Let("array", [lambda i: i + 1], "a"),
                            av.Let("array", ["i"], "b"),
                            av.Let("swapped", 1.),
                            av.Let("loss", lambda loss: loss + 1.),
                        ])),
                 av.LetInt("n", lambda n: n - 1)),
        av.Output("array"), av.Output("loss"),
        beta=inverse_temperature,
    )
