"""Train the facial-expression CNN on FER-2013 and export it to ONNX.

Splits are FER-2013's own: fit on `Training`, pick the epoch on `PublicTest`, and
evaluate `PrivateTest` once at the end (subject-independent by construction of the set).
DATA is the image-folder layout `<Usage>/<class>/*.jpg` (48x48 grey).

    python -m venv /tmp/train && /tmp/train/bin/pip install -r tools/train-requirements.txt
    /tmp/train/bin/python tools/train_expression.py DATA --out models/expression_cnn.onnx
"""
import argparse
import json
import math
import time
from pathlib import Path

import cv2
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

# FER-2013 folder names, in the order of the model's outputs.
FER_CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']
# The same classes under their REP-155 names (written into the ONNX metadata).
REP155 = ['angry', 'disgusted', 'scared', 'happy', 'sad', 'surprised', 'neutral']
SIZE = 48


def load_split(root, usage):
    images, labels = [], []
    for index, name in enumerate(FER_CLASSES):
        for path in sorted((root / usage / name).glob('*.jpg')):
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            images.append(cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
            labels.append(index)
    if not images:
        raise SystemExit(f'no images under {root / usage}/<class>/*.jpg')
    return torch.from_numpy(np.stack(images)[:, None]), torch.tensor(labels)


def conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ExpressionNet(nn.Module):
    """VGG-style: four stages of two 3x3 convs; input raw grey pixels 0..255."""

    def __init__(self, width=24, classes=7):
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]
        self.features = nn.Sequential(
            conv(1, w[0]), conv(w[0], w[0]), nn.MaxPool2d(2),
            conv(w[0], w[1]), conv(w[1], w[1]), nn.MaxPool2d(2),
            conv(w[1], w[2]), conv(w[2], w[2]), nn.MaxPool2d(2),
            conv(w[2], w[3]), conv(w[3], w[3]), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.4), nn.Linear(w[3], classes))

    def forward(self, pixels):
        return self.head(self.features(pixels / 127.5 - 1.0))


class FlipAveraged(nn.Module):
    """Export wrapper: softmax averaged over the face and its mirror image."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, face):
        both = torch.cat([face, torch.flip(face, dims=[3])])
        probs = F.softmax(self.net(both), dim=1)
        return (probs[:face.shape[0]] + probs[face.shape[0]:]) / 2


def augment(batch, generator):
    """Random mirror, rotation, scale, shift, contrast and erasing on a float batch."""
    n = batch.shape[0]
    u = torch.rand(n, 6, generator=generator)
    angle = (u[:, 0] - 0.5) * math.radians(30)
    scale = 1.0 + (u[:, 1] - 0.5) * 0.3
    flip = torch.where(u[:, 2] < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, (u[:, 3] - 0.5) * 0.2], 1),
                         torch.stack([sin * flip, cos, (u[:, 4] - 0.5) * 0.2], 1)], 1)
    grid = F.affine_grid(theta, batch.shape, align_corners=False)
    out = F.grid_sample(batch, grid, padding_mode='border', align_corners=False)
    gain = 0.7 + 0.6 * torch.rand(n, 1, 1, 1, generator=generator)
    mean = out.mean(dim=(2, 3), keepdim=True)
    out = ((out - mean) * gain + mean + (torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 40)
    erase = u[:, 5] < 0.5
    size = SIZE // 3
    for i in torch.nonzero(erase).flatten().tolist():
        y, x = torch.randint(0, SIZE - size, (2,), generator=generator).tolist()
        out[i, :, y:y + size, x:x + size] = torch.rand(1, generator=generator) * 255
    return out.clamp(0, 255)


def predict(model, images, batch=512):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(images[i:i + batch].float()) for i in range(0, len(images), batch)])


def accuracy(probs, labels):
    return float((probs.argmax(1) == labels).float().mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data', type=Path)
    parser.add_argument('--out', type=Path, default=Path('models/expression_cnn.onnx'))
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--width', type=int, default=24)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--lr', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    train_x, train_y = load_split(args.data, 'Training')
    val_x, val_y = load_split(args.data, 'PublicTest')
    print(f'Training {len(train_y)} images, PublicTest {len(val_y)}')

    net = ExpressionNet(args.width)
    steps = args.epochs * math.ceil(len(train_y) / args.batch)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9,
                                nesterov=True, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=steps)
    history, best, best_state = [], -1.0, None
    started = time.time()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(train_y), generator=generator)
        bar = tqdm(range(0, len(order), args.batch), desc=f'epoch {epoch + 1}/{args.epochs}')
        for start in bar:
            index = order[start:start + args.batch]
            logits = net(augment(train_x[index].float(), generator))
            loss = F.cross_entropy(logits, train_y[index], label_smoothing=0.1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            bar.set_postfix(loss=f'{loss.item():.3f}')
        val = accuracy(predict(FlipAveraged(net), val_x), val_y)
        history.append({'epoch': epoch + 1, 'val_accuracy': val})
        print(f'epoch {epoch + 1}: PublicTest accuracy {val:.4f}')
        if val > best:
            best, best_state = val, {k: v.clone() for k, v in net.state_dict().items()}

    net.load_state_dict(best_state)
    model = FlipAveraged(net).eval()
    test_x, test_y = load_split(args.data, 'PrivateTest')
    test = accuracy(predict(model, test_x), test_y)
    print(f'best PublicTest {best:.4f}; PrivateTest {test:.4f}')

    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 1, SIZE, SIZE), str(args.out), opset_version=17,
                      input_names=['face'], output_names=['probabilities'],
                      dynamic_axes={'face': {0: 'n'}, 'probabilities': {0: 'n'}}, dynamo=False)
    onnx_model = onnx.load(str(args.out))
    meta = {'labels': ','.join(REP155), 'input': f'grey {SIZE}x{SIZE}, pixels 0..255',
            'source': 'av_emotion tools/train_expression.py on FER-2013 Training'}
    for key, value in meta.items():
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(onnx_model, str(args.out))
    report = {'args': {k: str(v) for k, v in vars(args).items()}, 'history': history,
              'best_public_test_accuracy': best, 'private_test_accuracy': test,
              'train_minutes': (time.time() - started) / 60}
    args.out.with_suffix('.train.json').write_text(json.dumps(report, indent=1))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
