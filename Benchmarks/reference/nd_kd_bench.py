"""nd-kd-bench's reference side: the same three training steps in PyTorch (fp32, CPU): the teacher cnn
32-M-64-M-128-128 and the student cnn 16-M-32-M-64 (3×3 convs without bias, BatchNorm2d, ReLU, MaxPool 2,
global average pooling, Linear), each with cross-entropy, and the student with KD++ as the reference's
train_cifar_kd.py computes it (teacher in eval mode under no_grad; KD at T 4; ND through EmbTrans's
BatchNorm1d → Dropout(0.5) → Linear 64 → 128), ND written vectorized (the reference's per-sample Python
loop is slower; see the README). SGD(momentum 0.9, nesterov, weight decay 5e-4).

Args: THREADS DATA_JSON ("images" [B·784], "labels", "batch", "warm_up", "timed").
Prints {"teacher", "student", "kdpp"} (images/s), "peak_mb" (this process's peak RSS) and "torch".
"""
import json, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads, data_path = int(sys.argv[1]), sys.argv[2]
torch.set_num_threads(threads)
d = json.load(open(data_path))
B, warm, timed = d["batch"], d["warm_up"], d["timed"]
x = torch.tensor(d["images"], dtype=torch.float32).view(B, 1, 28, 28)
y = torch.tensor(d["labels"])


class CNN(nn.Module):
    def __init__(self, widths):
        super().__init__()
        layers, c = [], 1
        for w in widths:
            if w == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                c = w
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, 10)

    def forward(self, x):
        e = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return e, self.fc(e)


def speed(net, loss_fn, extra=()):
    opt = torch.optim.SGD(list(net.parameters()) + list(extra), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)

    def step():
        net.train()
        e, z = net(x)
        loss = loss_fn(e, z)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(warm):
        step()
    t = time.perf_counter()
    for _ in range(timed):
        step()
    return B * timed / (time.perf_counter() - t)


torch.manual_seed(0)
teacher, student = CNN([32, "M", 64, "M", 128, 128]), CNN([16, "M", 32, "M", 64])
out = {"torch": torch.__version__}
out["teacher"] = speed(teacher, lambda e, z: F.cross_entropy(z, y))
out["student"] = speed(student, lambda e, z: F.cross_entropy(z, y))
teacher.eval()
proj = nn.Sequential(nn.BatchNorm1d(64), nn.Dropout(0.5), nn.Linear(64, 128))
centers = F.normalize(torch.randn(10, 128), dim=1)


def kdpp(e, z):
    with torch.no_grad():
        te, tz = teacher(x)
    kd = F.kl_div(F.log_softmax(z / 4, 1), F.softmax(tz / 4, 1), reduction="batchmean") * 16
    s = proj(e)
    nd = (1 - (s * centers[y]).sum(1) / torch.maximum(s.norm(dim=1), te.norm(dim=1))).mean()
    return F.cross_entropy(z, y) + kd + nd


out["kdpp"] = speed(student, kdpp, proj.parameters())
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
