"""Run by torchrun in tests: train a few steps and save this rank's parameters.
Arguments: DATA OUTDIR STEPS [JSON of tiny_train_config overrides]."""
import json
import sys

import torch
from train_config import tiny_train_config

from op3d.training.distributed import init_distributed
from op3d.training.loop import training_loop

if __name__ == "__main__":
    data, outdir, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    overrides = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    info = init_distributed("cpu")
    result = training_loop(tiny_train_config(data, outdir, **overrides), info, max_steps=steps)
    torch.save({k: v.clone() for k, v in result["G"].state_dict().items()}, f"{outdir}/G_rank{info.rank}.pt")
    torch.distributed.destroy_process_group() if info.world_size > 1 else None
