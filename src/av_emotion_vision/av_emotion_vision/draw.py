"""Annotated image: face boxes, track ids and top labels, the probability bars of the largest
face, a title line; text on plates, sized to the image and kept inside it."""
import cv2
import numpy as np

from av_emotion.taxonomy import COLOURS as RGB, LABELS

# BGR colour per REP-155 label, in LABELS order (OpenCV draws BGR).
COLOURS = [RGB[label][::-1] for label in LABELS]
FONT = cv2.FONT_HERSHEY_SIMPLEX
# Text sits on plates: a dark one under the bars, the label's colour under a label.
DARK = (24, 24, 24)
GAP = 4  # pixels between a box and what is drawn beside it
BAR = 5  # the length of a full bar (probability 1), in text rows


def text_style(height):
    """(font scale, thickness): text about 1/30 of the image height, 11 pixels at least."""
    scale = max(0.5, height / 720)
    return scale, max(1, round(scale * 1.5))


def plate_size(text, scale, thickness):
    """(width, height) of a text plate, padded."""
    (w, h), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    pad = round(4 * scale)
    return w + 2 * pad, h + baseline + 2 * pad


def label_text(face):
    top = int(np.argmax(face.probabilities))
    return f'#{face.id} {LABELS[top]} {face.probabilities[top]:.2f}'


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def layout(shape, faces, title=None):
    """Where annotate() draws, as (x0, y0, x1, y1) inside the image: the title plate (None
    without a title), a label plate per face, and the bar panel of the largest face (the
    speaker, as fusion_node takes it; None without faces): at 640x360 there is room for
    one panel of readable text, not one per face.

    A label goes above its box, else below it, else inside it at the top, clear of the
    labels before it where it can be; the panel beside its box, right or left, else inside
    the image's right edge, and not over its label. Nothing goes over the title.
    """
    height, width = shape[:2]
    scale, thickness = text_style(height)
    title_box, ceiling = None, 0
    if title:
        w, ceiling = plate_size(title, scale, thickness)
        title_box = (0, 0, min(w, width), ceiling)
    labels = []
    for face in faces:
        x, y, w, h = (int(v) for v in face.box)
        lw, lh = plate_size(label_text(face), scale, thickness)
        lx = min(max(0, x), width - lw)
        inside = min(max(ceiling, y), height - lh)
        spots = [(lx, ly, lx + lw, ly + lh) for ly in (y - lh, y + h, inside)
                 if ceiling <= ly <= height - lh] or [(lx, inside, lx + lw, inside + lh)]
        free = [s for s in spots if not any(overlap(s, other) for other in labels)]
        labels.append((free or spots)[0])
    if not faces:
        return title_box, labels, None
    largest = max(range(len(faces)), key=lambda i: faces[i].box[2] * faces[i].box[3])
    x, y, w, h = (int(v) for v in faces[largest].box)
    name_w, row = plate_size(max(LABELS, key=len), scale, thickness)
    panel_w, panel_h = name_w + BAR * row, len(LABELS) * row
    if x + w + GAP + panel_w <= width:
        px = x + w + GAP
    else:
        px = x - GAP - panel_w if x - GAP - panel_w >= 0 else width - panel_w
    py = max(ceiling, y)
    label = labels[largest]
    if overlap(label, (px, py, px + panel_w, py + panel_h)):
        py = label[3]
    py = min(py, height - panel_h)
    return title_box, labels, (largest, (px, py, px + panel_w, py + panel_h))


def plate(out, box, colour, alpha):
    """Fill box with colour, alpha opaque."""
    x0, y0, x1, y1 = (max(0, v) for v in box)
    region = out[y0:y1, x0:x1]
    region[:] = (region * (1 - alpha) + np.array(colour) * alpha).astype(out.dtype)


def ink(colour):
    """Black or white, whichever reads better on colour (BGR)."""
    luma = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    return (0, 0, 0) if luma > 110 else (255, 255, 255)


def write(out, text, box, colour, scale, thickness):
    """text on a plate of colour filling box."""
    plate(out, box, colour, 0.85)
    pad = round(4 * scale)
    (_, h), _ = cv2.getTextSize(text, FONT, scale, thickness)
    cv2.putText(out, text, (box[0] + pad, box[1] + pad + h), FONT, scale, ink(colour),
                thickness, cv2.LINE_AA)


def annotate(bgr, faces, title=None, title_colour=DARK):
    """A copy of `bgr` with each pipeline Face drawn on it, and a title line at the top."""
    out = bgr.copy()
    scale, thickness = text_style(out.shape[0])
    title_box, labels, panel = layout(out.shape, faces, title)
    # Panel, boxes, then labels: where faces crowd, their labels stay readable.
    if panel is not None:
        largest, (x0, y0, x1, y1) = panel
        plate(out, (x0, y0, x1, y1), DARK, 0.75)
        row = (y1 - y0) // len(LABELS)
        start, pad = x1 - BAR * row, round(4 * scale)
        for k, (name, p) in enumerate(zip(LABELS, faces[largest].probabilities)):
            top = y0 + k * row
            cv2.putText(out, name, (x0 + pad, top + row - pad - 2), FONT, scale,
                        (235, 235, 235), thickness, cv2.LINE_AA)
            cv2.rectangle(out, (start + pad, top + pad),
                          (start + pad + int(p * (BAR * row - 2 * pad)), top + row - pad),
                          COLOURS[k], -1)
    colours = [COLOURS[int(np.argmax(face.probabilities))] for face in faces]
    for face, colour in zip(faces, colours):
        x, y, w, h = (int(v) for v in face.box)
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, 2)
    for face, label, colour in zip(faces, labels, colours):
        write(out, label_text(face), label, colour, scale, thickness)
    if title:
        write(out, title, title_box, title_colour, scale, thickness)
    return out
