#!/usr/bin/env python3
"""PyTorch peer of `lab bench`: the same DPO workload in plain PyTorch, timed the same way.

This is a benchmark harness, not part of the library. `lab bench` (tools/bench/peer.ts) writes
a JSON spec -- GPT-2 config, the path of a safetensors file with the weights, the token
batches, the DPO and AdamW settings -- runs this script with it and reads one JSON object
back from stdout. The model here is a small GPT-2 written from the paper's description
(learned positions, pre-LayerNorm blocks, causal softmax attention, tanh-GELU MLP, final
LayerNorm, unembedding tied to the token embedding), with Hugging Face tensor names and
[in, out] projection layouts, so it reads the same checkpoint the Deno side trains.

The DPO step mirrors tools/bench/steps.ts: reference scores without autograd, policy scores
with it, mean DPO loss over pairs (-log sigmoid(beta * ((pc - rc) - (pr - rr)))), AdamW
(torch.optim.AdamW), and the loss read back with .item(). Per-token log-probs are the label
logit minus logsumexp over the vocabulary, as TRL computes them in float32.

Usage: python3 torch_peer.py SPEC.json   (prints the result JSON on stdout)
       python3 torch_peer.py --probe     (prints {"torch": version, ...} if torch imports)
"""

import json
import math
import os
import struct
import sys
import time

# OpenBLAS reads OPENBLAS_CORETYPE once, when torch's import loads it. Debian's 0.3.21 does not
# recognise recent processors and falls back to generic kernels (about 7x slower products on an
# AVX-512 machine), which would flatter the other side of the comparison. A value already set is
# respected; otherwise one is chosen from the CPU's flags, with the rule lib/kernels/blas.ts uses.
AVX512 = ("avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd")


def core_type_for_flags(flags):
    """OpenBLAS core type for a set of /proc/cpuinfo flags, or None (leave it to the library)."""
    if all(f in flags for f in AVX512):
        return "SkylakeX"
    if "avx2" in flags and "fma" in flags:
        return "Haswell"
    if "avx" in flags:
        return "Sandybridge"
    return None


def choose_core_type():
    if os.environ.get("OPENBLAS_CORETYPE"):
        return {"value": os.environ["OPENBLAS_CORETYPE"], "source": "environment"}
    try:
        with open("/proc/cpuinfo") as f:
            line = next((x for x in f if x.startswith("flags")), "")
    except OSError:
        line = ""
    chosen = core_type_for_flags(set(line.partition(":")[2].split()))
    if chosen is None:
        return {"value": None, "source": "library"}
    os.environ["OPENBLAS_CORETYPE"] = chosen
    return {"value": chosen, "source": "cpuinfo"}


CORE_TYPE = choose_core_type()


def probe():
    """Report whether torch imports, its version, and the devices it sees."""
    try:
        import torch
    except Exception as e:  # noqa: BLE001 -- any import failure means "no peer"
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
        return 0
    print(json.dumps({
        "ok": True,
        "torch": torch.__version__,
        "cuda": bool(torch.cuda.is_available()),
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
        "openblas": openblas_info(),
    }))
    return 0


# Safetensors: 8-byte little-endian header size, a JSON header naming each tensor's dtype,
# shape and byte range, then the raw little-endian data.
def read_safetensors(path):
    import numpy as np
    import torch

    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = info["dtype"]
        if dtype == "F32":
            arr = np.frombuffer(raw, dtype="<f4", count=(end - start) // 4, offset=base + start)
        elif dtype == "F16":
            arr = np.frombuffer(raw, dtype="<f2", count=(end - start) // 2, offset=base + start)
        elif dtype == "BF16":
            half = np.frombuffer(raw, dtype="<u2", count=(end - start) // 2, offset=base + start)
            arr = (half.astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: tensor '{name}' has dtype {dtype}; F32/F16/BF16 only")
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(info["shape"]))
    return out


class GPT2:
    """GPT-2 forward pass over a dict of parameter tensors (Hugging Face names)."""

    def __init__(self, config, params):
        self.c = config
        self.p = params

    def forward(self, ids, attention_mask, hidden_only=False):
        import torch
        import torch.nn.functional as F

        p, c = self.p, self.c
        n, t = ids.shape
        d, nh = c["n_embd"], c["n_head"]
        hd = d // nh
        eps = c.get("layer_norm_epsilon", 1e-5)
        x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:t]
        causal = torch.full((t, t), -1e9, device=ids.device).triu(1)
        pad = (1.0 - attention_mask)[:, None, None, :] * -1e9
        mask = causal + pad
        for i in range(c["n_layer"]):
            h = f"transformer.h.{i}."
            a = F.layer_norm(x, (d,), p[h + "ln_1.weight"], p[h + "ln_1.bias"], eps)
            qkv = torch.addmm(p[h + "attn.c_attn.bias"], a.view(n * t, d), p[h + "attn.c_attn.weight"])
            q, k, v = qkv.view(n, t, 3, nh, hd).permute(2, 0, 3, 1, 4)
            scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd)) + mask
            y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n * t, d)
            x = x + torch.addmm(p[h + "attn.c_proj.bias"], y, p[h + "attn.c_proj.weight"]).view(n, t, d)
            m = F.layer_norm(x, (d,), p[h + "ln_2.weight"], p[h + "ln_2.bias"], eps)
            u = torch.addmm(p[h + "mlp.c_fc.bias"], m.view(n * t, d), p[h + "mlp.c_fc.weight"])
            act = c.get("activation_function", "gelu_new")
            u = F.relu(u) if act == "relu" else F.gelu(u, approximate="none" if act == "gelu" else "tanh")
            x = x + torch.addmm(p[h + "mlp.c_proj.bias"], u, p[h + "mlp.c_proj.weight"]).view(n, t, d)
        x = F.layer_norm(x, (d,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], eps)
        if hidden_only:
            return x
        unembed = p.get("lm_head.weight", p["transformer.wte.weight"])
        return x @ unembed.t()


def sequence_logps(model, batch):
    """Summed completion log-probs of every row: [2B] (chosen rows first)."""
    import torch

    ids, attn, comp = batch
    logits = model.forward(ids, attn)[:, :-1]
    labels = ids[:, 1:]
    picked = torch.gather(logits, -1, labels[..., None]).squeeze(-1)
    per_token = picked - torch.logsumexp(logits, -1)
    return (per_token * comp[:, 1:]).sum(-1)


def ches_scores(model, batch):
    """CHES of each pair (lib/analysis/ches.ts): S = the sum of the final hidden states at the
    positions that predict completion tokens (prompt_length - 1 up to prompt_length +
    completion_length - 2), per row; CHES = <S+, S-> - ||S+||^2 (chosen rows first)."""
    import torch

    ids, attn, prompt, completion = batch
    with torch.no_grad():
        hidden = model.forward(ids, attn, hidden_only=True)
        n, t, _ = hidden.shape
        pos = torch.arange(t, device=ids.device)[None, :]
        mask = ((pos >= prompt[:, None] - 1) & (pos < prompt[:, None] + completion[:, None] - 1)).float()
        sums = (mask[:, :, None] * hidden).sum(1)
        b = n // 2
        plus, minus = sums[:b], sums[b:]
        return ((plus * minus).sum(-1) - (plus * plus).sum(-1)).cpu()


def dpo_loss(policy, ref, beta):
    import torch.nn.functional as F

    b = policy.shape[0] // 2
    margin = (policy[:b] - ref[:b]) - (policy[b:] - ref[b:])
    return -F.logsigmoid(beta * margin).mean()


def blas_in_use():
    """Which BLAS library this process mapped (Debian's torch links whatever libblas.so.3 is)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
        return sorted(os.path.basename(x) + " (" + os.path.dirname(x) + ")" for x in libs if "/" in x)
    except OSError:
        return []


def openblas_info(threads=None):
    """The OpenBLAS this process mapped (through torch's libblas.so.3): its path, config string,
    core name and thread count, read from the loaded library with ctypes; None without one.
    With `threads`, its thread pool is set to that many first: torch.set_num_threads sizes
    torch's OpenMP pool only, and the pthread build of OpenBLAS keeps one thread per core."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            found = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
        # The library itself before Debian's libblas.so.3 wrapper in the same folder.
        paths = sorted(found, key=lambda p: ("libopenblas" not in os.path.basename(p), p))
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
        except (OSError, AttributeError):
            continue
        if threads:
            lib.openblas_set_num_threads(int(threads))
        return {
            "library": path,
            "config": lib.openblas_get_config().decode(),
            "core_name": lib.openblas_get_corename().decode(),
            "threads": lib.openblas_get_num_threads(),
            "core_type": CORE_TYPE,
        }
    return None


def sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def run(spec):
    import torch

    device = spec.get("device", "auto")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    openblas = openblas_info(spec.get("threads")) if device.type == "cpu" else None
    cfg = spec["model"]["config"]
    raw = read_safetensors(spec["model"]["weights"])
    params = {}
    for name, value in raw.items():
        key = name if name.startswith(("transformer.", "lm_head.")) else "transformer." + name
        params[key] = value.to(device)
    del raw
    policy_params = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    # A precomputed reference needs no second copy of the weights (the 124M model's memory).
    if spec.get("dpo", {}).get("reference", "model") == "model":
        ref_params = params
    else:
        ref_params, params = policy_params, None
    policy, ref = GPT2(cfg, policy_params), GPT2(cfg, ref_params)
    n_params = sum(v.numel() for v in policy_params.values())

    batches = []
    for b in spec["batches"]:
        rows, t = 2 * b["pairs"], b["length"]
        batches.append((
            torch.tensor(b["input_ids"], dtype=torch.long, device=device).view(rows, t),
            torch.tensor(b["attention_mask"], dtype=torch.float32, device=device).view(rows, t),
            torch.tensor(b["completion_mask"], dtype=torch.float32, device=device).view(rows, t),
        ))

    out = {
        "torch": torch.__version__,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "blas": blas_in_use(),
        "openblas": openblas,
        "params": n_params,
    }

    with torch.no_grad():
        out["first_batch_logps"] = sequence_logps(policy, batches[0]).tolist()

    tasks = spec.get("tasks", ["dpo", "score"])
    if "score" in tasks:
        sc = spec.get("score", {})
        times, cpu = [], []
        for i in range(sc.get("warmup", 1) + sc.get("repeats", 5)):
            t0, c0 = time.perf_counter(), time.process_time()
            with torch.no_grad():
                sequence_logps(ref, batches[i % len(batches)]).cpu()
            sync(device)
            if i >= sc.get("warmup", 1):
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        out["score"] = {"times_ms": times, "cpu_ms": cpu}

    if "dpo" in tasks:
        d = spec["dpo"]
        opt = torch.optim.AdamW(
            list(policy_params.values()), lr=d["lr"], betas=(d["beta1"], d["beta2"]),
            eps=d["eps"], weight_decay=d["weight_decay"])
        losses, times, cpu = [], [], []
        # "precomputed": the policy's own scores before any update, outside the timed steps
        # (TRL's precompute_ref_log_probs); no reference forward inside the step.
        cached = None
        if d.get("reference", "model") == "precomputed":
            with torch.no_grad():
                cached = [sequence_logps(policy, b) for b in batches]
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        for i in range(d.get("warmup", 1) + d["steps"]):
            batch = batches[i % len(batches)]
            t0, c0 = time.perf_counter(), time.process_time()
            if cached is not None:
                ref_logps = cached[i % len(batches)]
            else:
                with torch.no_grad():
                    ref_logps = sequence_logps(ref, batch)
            loss = dpo_loss(sequence_logps(policy, batch), ref_logps, d["beta"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            sync(device)
            if i >= d.get("warmup", 1):
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        out["dpo"] = {"losses": losses, "times_ms": times, "cpu_ms": cpu}
        if device.type == "cuda":
            out["dpo"]["peak_bytes"] = torch.cuda.max_memory_allocated(device)
    if "ches" in spec:
        # CHES over the spec's pairs in its batches, forward with hidden states only, read back.
        ch = spec["ches"]
        ches_batches = [(
            torch.tensor(b["input_ids"], dtype=torch.long, device=device).view(2 * b["pairs"], b["length"]),
            torch.tensor(b["attention_mask"], dtype=torch.float32, device=device).view(2 * b["pairs"], b["length"]),
            torch.tensor(b["prompt_length"], dtype=torch.long, device=device),
            torch.tensor(b["completion_length"], dtype=torch.long, device=device),
        ) for b in ch["batches"]]
        times, cpu, values = [], [], []
        for i in range(ch.get("warmup", 1) + ch["repeats"]):
            t0, c0 = time.perf_counter(), time.process_time()
            values = [v for b in ches_batches for v in ches_scores(ref, b).tolist()]
            sync(device)
            if i >= ch.get("warmup", 1):
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        out["ches"] = {"times_ms": times, "cpu_ms": cpu, "values": values}
    if "matmul" in spec:
        # Plain float32 products at the step's shapes: the kernel speed under everything else.
        mm = spec["matmul"]
        out["matmul"] = []
        for m, k, n in mm["shapes"]:
            a = torch.randn(m, k, device=device)
            b = torch.randn(k, n, device=device)
            times = []
            for i in range(3 + mm["repeats"]):
                t0 = time.perf_counter()
                (a @ b)[0, 0].item()
                if i >= 3:
                    times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            out["matmul"].append({"shape": [m, k, n], "ms": times[len(times) // 2]})
    try:
        import resource
        out["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except ImportError:
        pass
    return out


def main(argv):
    if len(argv) == 2 and argv[1] == "--probe":
        return probe()
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        spec = json.load(f)
    print(json.dumps(run(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
