"""Writes trainer_state.json: a SYNTHETIC Hugging Face Trainer state in the shape TRL's
DPOTrainer leaves behind (log_history with train, eval and summary entries). No model was trained:
the numbers follow a plausible DPO run (chosen reward drifting down slowly, rejected faster) with
seeded noise. Run: python3 make_trainer_state.py
"""
import json
import math
import random

rng = random.Random(0)
max_steps = 60          # 1 epoch of 480 pairs, 8 per device, grad accumulation 1
logging_steps = 5
eval_steps = 20
base_lr = 5e-7
warmup = 6              # warmup_ratio 0.1, linear decay


def lr_after(step):
    # Hugging Face logs the rate after scheduler.step(), i.e. the one the next update uses.
    if step < warmup:
        return base_lr * step / warmup
    return base_lr * max(0.0, (max_steps - step) / (max_steps - warmup))


def metrics(t, prefix="", noise=1.0):
    # t in [0, 1]: training progress
    n = lambda s: rng.gauss(0.0, s * noise)
    chosen = -0.35 * t ** 1.2 + n(0.03)
    rejected = -1.25 * t ** 1.1 + n(0.04)
    margin = chosen - rejected
    loss = sum(math.log1p(math.exp(-(margin + rng.gauss(0, 0.6)))) for _ in range(8)) / 8
    acc = min(1.0, max(0.0, round((0.5 + 0.35 * t + n(0.08)) * 8) / 8))
    out = {
        "logits/chosen": -2.61 + 0.05 * t + n(0.02),
        "logits/rejected": -2.58 + 0.02 * t + n(0.02),
        "logps/chosen": -312.4 - 3.5 * t + n(4.0),
        "logps/rejected": -338.9 - 12.5 * t + n(4.0),
        "loss": loss,
        "rewards/accuracies": acc,
        "rewards/chosen": chosen,
        "rewards/margins": margin,
        "rewards/rejected": rejected,
    }
    return {prefix + k: v for k, v in out.items()}


history = []
train_losses = []
for step in range(1, max_steps + 1):
    t = step / max_steps
    if step % logging_steps == 0:
        entry = metrics(t)
        train_losses.append(entry["loss"])
        entry.update({
            "epoch": step / max_steps,
            "grad_norm": 14.0 + 6.0 * math.exp(-3 * t) + rng.gauss(0, 1.5),
            "learning_rate": lr_after(step),
            "step": step,
        })
        history.append(entry)
    if step % eval_steps == 0:
        entry = metrics(t, "eval_", noise=0.5)
        runtime = 4.1 + rng.gauss(0, 0.1)
        entry.update({
            "epoch": step / max_steps,
            "eval_runtime": round(runtime, 4),
            "eval_samples_per_second": round(60 / runtime, 3),
            "eval_steps_per_second": round(60 / 8 / runtime, 3),
            "step": step,
        })
        history.append(entry)

runtime = 412.5177
history.append({
    "epoch": 1.0,
    "step": max_steps,
    "total_flos": 0.0,
    "train_loss": sum(train_losses) / len(train_losses),
    "train_runtime": runtime,
    "train_samples_per_second": round(480 / runtime, 3),
    "train_steps_per_second": round(max_steps / runtime, 3),
})

state = {
    "best_global_step": None,
    "best_metric": None,
    "best_model_checkpoint": None,
    "epoch": 1.0,
    "eval_steps": eval_steps,
    "global_step": max_steps,
    "is_hyper_param_search": False,
    "is_local_process_zero": True,
    "is_world_process_zero": True,
    "log_history": history,
    "logging_steps": logging_steps,
    "max_steps": max_steps,
    "num_input_tokens_seen": 0,
    "num_train_epochs": 1,
    "save_steps": 500,
    "stateful_callbacks": {
        "TrainerControl": {
            "args": {
                "should_epoch_stop": False,
                "should_evaluate": False,
                "should_log": False,
                "should_save": True,
                "should_training_stop": True,
            },
            "attributes": {},
        }
    },
    "total_flos": 0.0,
    "train_batch_size": 8,
    "trial_name": None,
    "trial_params": None,
}

# Hugging Face's TrainerState.save_to_json writes exactly this way.
with open("trainer_state.json", "w", encoding="utf-8") as f:
    f.write(json.dumps(state, indent=2, sort_keys=True) + "\n")
