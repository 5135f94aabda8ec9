"""Write notebooks/10_video_tools.ipynb from the cells below (then: scripts/sync_course.py adds the setup
cell, scripts/execute_notebooks.py runs it). Kept as a script so the chapter's text and code live in
one reviewable file; edit here, re-run, re-execute."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CELLS: list[tuple[str, str]] = []


def md(text: str) -> None:
    CELLS.append(("markdown", text.strip("\n")))


def code(text: str) -> None:
    CELLS.append(("code", text.strip("\n")))


md(r"""
# 10 · Video: deep tools inside a hybrid codec, and a learned P-frame codec
*A video codec is a loop of small decisions: predict each block from what the decoder already has, code
what the prediction missed, filter, repeat. Deep learning enters in two ways: a network replaces one
module of that loop (intra prediction, chroma from luma, resampling, mode decision, the loop filter), or
networks replace the whole loop (DVC). This chapter builds a small hybrid codec you can read, measures it
against x264 and x265, and switches its learned tools on one at a time.*

**Objectives.** After this chapter you can
1. **explain** a hybrid codec's loop (intra and inter prediction, skip, transform, quantization, entropy
   coding, loop filter) and **choose** modes by rate-distortion cost $J = D + \lambda R$;
2. **measure** a codec against x264/x265 with one protocol (same frames, PSNR per frame, BD-rate);
3. **add** a learned tool to the loop (an intra mode, chroma from luma, a learned upsampler, a fast mode
   decision, a loop filter trained on the codec's own output) and report its BD-rate and its time;
4. **keep decoding bit-exact** with learned tools: integer networks, shared by encoder and decoder;
5. **build** a DVC-style learned P-frame codec and say where it stands against the hybrid codec.

**Prerequisites.** Chapter 1 (DCT, quantization tables, run-lengths), chapter 2 (PSNR, BD-rate), chapter 4
(the hyperprior, R + λD, integer networks), chapter 5 (loop filters, the toy video codec).
""")

code(r"""
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers import config, data, metrics, plotting, widgets
from helpers.video import fastmode, hybrid, intra, learned, pframe, reference_codecs

config.seed_everything(0)
plotting.use_style()
FAST = config.FAST
study = data.reference("video_study")  # the full measurements (scripts/video_study.py)
frames = data.video_sequence("foreman", 4 if FAST else 10, 50)  # Foreman 50-59: the test split
print(f"{frames['y'].shape[0]} Foreman frames here; the study coded {len(study['sequences'])} sequences, "
      f"ffmpeg: {reference_codecs.version()[:24]}")
""")

md(r"""
## 1. Three test sequences, 4:2:0
`data.video_sequence(name)` serves three classic QCIF (176 × 144) sequences as I420 planes: luma `y` of
(N, 144, 176) and two chroma planes `u`, `v` of half the width and height (4:2:0, chapter 1's subsampling).
**Foreman** (100 frames, 30 fps: a talking head, a hand-held camera that pans to a building site),
**Bus** (38 frames at 7.5 fps: a fast pan, so consecutive frames differ a lot) and **Highway** (40 frames:
a slow forward drive, a smooth road and a textured sky). Frames 0-49 of Foreman are the training split of
every learned tool; the study codes Foreman 50-79, all of Bus and all of Highway.

The older 10-frame Foreman file of chapter 5 (`data.foreman_qcif`) is not the first ten frames: it is every
second frame from frame 80 (80, 82, …, 98), so its frames are 1/15 s apart.
""")

code(r"""
names = list(data.VIDEO_SEQUENCES)
figure, axes = plt.subplots(2, 3, figsize=(11, 5.4))
for column, name in enumerate(names):
    sequence = data.video_sequence(name)
    last = sequence["y"].shape[0] - 1
    for row, index in enumerate((0, last)):
        rgb = data.yuv_to_rgb(sequence["y"][index], sequence["u"][index], sequence["v"][index])
        axes[row, column].imshow(rgb)
        axes[row, column].set_title(f"{name}, frame {index}")
        axes[row, column].axis("off")
    motion = np.abs(np.diff(sequence["y"].astype(float), axis=0)).mean()
    print(f"{name}: {last + 1} frames at {data.VIDEO_SEQUENCES[name]['fps']:g} fps, mean |frame difference| "
          f"{motion:.1f} grey levels")
figure.tight_layout()
plt.show()
old = data.foreman_qcif(10)["y"]
print("the 10-frame file is frames 80, 82, ..., 98:",
      bool(np.array_equal(old, data.video_sequence("foreman", 20, 80)["y"][::2])))
""")

md(r"""
## 2. The hybrid codec
`helpers.video.hybrid` is the codec of this chapter, about 800 lines you can read:

* frame 0 is intra; every later frame is predicted from the previous decoded one (low delay, IPPP);
* each 16 × 16 **macroblock** is *skip* (copy the reference at the predicted motion vector, no residual),
  *inter* (a half-pel motion vector, coded as its difference from the median of the neighbours' vectors,
  plus a residual) or *intra* (each 8 × 8 luma block predicted from its decoded neighbours by one of six
  modes, one chroma mode per macroblock);
* residuals go through chapter 1's 8 × 8 DCT (libjpeg's integer form) and its quality-scaled tables, with a
  dead-zone quantizer, and are written as run-level pairs in exp-Golomb codes (chapter 5's toy codec);
* the decoded frame passes chapter 5's deblocking filter before it becomes the next reference.

Every choice (mode, vector, macroblock type) minimizes the **Lagrangian cost** on the block actually coded,

$$J = D + \lambda R, \qquad \lambda = 0.12\, q_{DC}^2,$$

with $D$ the sum of squared errors and $R$ the exact bits; $\lambda$ grows with the square of the luma DC
step $q_{DC}$ of the quality's table, as H.264's $0.85 \cdot 2^{(QP-12)/3}$ grows with its step.
""")

code(r"""
quality = 25
started = time.perf_counter()
result = hybrid.analyze(frames, quality)
encode_seconds = time.perf_counter() - started
started = time.perf_counter()
decoded = hybrid.decode(result.data)  # reads only the bytes
decode_seconds = time.perf_counter() - started
print(f"{len(result.data)} bytes for {frames['y'].shape[0]} frames; encode {encode_seconds:.1f} s, "
      f"decode {decode_seconds:.2f} s; bit-exact: "
      f"{all(np.array_equal(decoded[k], result.decoded[k]) for k in 'yuv')}")
print("PSNR:", {k: round(v, 2) for k, v in hybrid.psnr(frames, decoded).items()})
for n, (bits, types) in enumerate(zip(result.bits_per_frame, result.types, strict=True)):
    counts = np.bincount(types.ravel(), minlength=3)
    print(f"frame {n}: {bits:6d} bits; skip {counts[0]:2d}, inter {counts[1]:2d}, intra {counts[2]:2d}")
""")

md(r"""
### Intra prediction: six modes and a rate-distortion choice
The six classic modes of `intra.classic_predictions` extrapolate the decoded row above and column to the left
(DC, vertical, horizontal, planar, and the two 45° diagonals with a [1 2 1]/4 smoothing, as in H.264). The
encoder codes the block with every mode and keeps the one of least $J$; the mode costs one bit when it equals
the left (else upper) block's mode, a few more otherwise.
""")

code(r"""
luma = frames["y"][0]
y, x = 48, 64
top, left, corner = intra.neighbours(luma, y, x)
predictions = intra.classic_predictions(top, left, corner)
window = luma[y - 1 : y + 8, x - 1 : x + 8]
shown = {"cmap": "gray", "vmin": int(window.min()) - 8, "vmax": int(window.max()) + 8}  # contrast stretched
figure, axes = plt.subplots(1, 7, figsize=(12, 2.2))
axes[0].imshow(window, **shown)
axes[0].set_title("block + neighbours")
for axis, name, prediction in zip(axes[1:], intra.LUMA_MODES, predictions, strict=False):
    error = np.abs(prediction - luma[y : y + 8, x : x + 8].astype(int)).mean()
    axis.imshow(prediction, **shown)
    axis.set_title(f"{name}\n|e| {error:.1f}", fontsize=9)
for axis in axes:
    axis.axis("off")
figure.tight_layout()
plt.show()
""")

code(r"""
figure, text = widgets.mode_map_view(frames, quality=25, tool="classic")
plt.show()
print(text)
""")

md(r"""
The same map as a widget (quality, and the mode set with the learned mode of section 4):
""")

code(r"""
widgets.mode_map_explorer(frames)
""")

md(r"""
### Inter prediction: half-pel motion and skip
Motion is searched at integer positions (full search, ±8 pixels, sum of absolute differences) and refined
to half a pixel on a grid interpolated by integer bilinear averaging (H.263's rule, identical in the
decoder). Skip is the cheapest mode: one bit, the predicted vector, no residual; at low rates most of a
static background is skipped. Grey arrows are skipped macroblocks, green inter, red squares intra:
""")

code(r"""
figure, text = widgets.motion_view(frames, frame=2, quality=25)
plt.show()
print(text)
""")

code(r"""
widgets.motion_explorer(frames)
""")

md(r"""
## 3. Against x264 and x265
`reference_codecs.code(frames, "x264" | "x265", crf)` runs Debian's ffmpeg 5.1 on the same I420 frames,
`-preset medium -tune psnr`, one intra frame then predicted frames; with and without B-frames (`-bf 0` is
our codec's own structure). Quality is measured with one protocol for everyone (`hybrid.psnr`): the mean over
frames of each frame's PSNR, per plane, and PSNR-YUV = (6 Y + U + V) / 8; rate is the file's bytes.
""")

code(r"""
styles = {"classic": ("tab:blue", "o-"), "x264 medium": ("tab:red", "s-"), "x264 medium -bf 0": ("tab:red", "s--"),
          "x265 medium": ("tab:purple", "^-"), "x265 medium -bf 0": ("tab:purple", "^--")}
figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for axis, (name, entry) in zip(axes, study["sequences"].items(), strict=True):
    seconds = (entry["frames"][1] - entry["frames"][0] + 1) / entry["fps"]
    for label, (colour, style) in styles.items():
        points = entry["curves"][label]
        axis.plot([8 * p["bytes"] / seconds / 1000 for p in points], [p["psnr_yuv"] for p in points], style,
                  color=colour, label="hybrid (ours)" if label == "classic" else label, markersize=4)
    axis.set(xlabel="kbit/s", ylabel="PSNR-YUV [dB]", title=f"{name}, frames {entry['frames'][0]}-{entry['frames'][1]}")
axes[0].legend(fontsize=8)
figure.tight_layout()
plt.show()
print("BD-rate of our codec against each (PSNR-YUV; PSNR-Y in brackets):")
for name, entry in study["sequences"].items():
    row = ", ".join(f"{label} {v['psnr_yuv']:+.0f} % ({v['psnr_y']:+.0f} %)" for label, v in entry["bd_rate_classic_vs"].items())
    print(f"  {name}: {row}")
""")

md(r"""
READING_VS_X264
""")

code(r"""
if reference_codecs.available():  # a live run on this notebook's frames
    for crf in (28, 36):
        coded = reference_codecs.code(frames, "x264", crf, low_delay=True)
        print(f"x264 -bf 0 crf {crf}: {coded['bytes']} bytes, PSNR-YUV {hybrid.psnr(frames, coded['decoded'])['yuv']:.2f}")
else:
    print("ffmpeg with libx264/libx265 is not installed here (apt-get install ffmpeg); the plot above is stored")
""")

md(r"""
## 4. Deep tools, one at a time
Each tool is a switch of `hybrid.Tools`; the study codes the same frames with the classic codec and with one
tool on, and reports the BD-rate of the tool against the classic codec (negative: bits saved at equal
quality). Tools that touch chroma are judged on PSNR-YUV, the others on both.

* **learned intra** (`learned.load_integer("intra")`): a fully connected network (80 → 128 → 128 → 64, after Li et
  al., 2018) reads four decoded rows above and four columns to the left and predicts the 8 × 8 block; it is a
  seventh mode, chosen by $J$ like the others.
* **chroma from luma**: VVC's CCLM predicts chroma as $\alpha \cdot \text{luma} + \beta$ with $\alpha, \beta$
  fitted by least squares to the 16 neighbouring (downsampled luma, chroma) pairs (integers, $\alpha$ in 1/64
  steps), and a learned predictor (96 → 96 → 96 → 64) that reads the same block and neighbours.
* **half resolution**: a frame may be coded at half width and height and restored by a learned upsampler (a
  three-layer CNN correcting nearest-neighbour upsampling); the encoder codes both ways and keeps the smaller $J$.
* **fast mode decision** (`fastmode`): a logistic regression on five things the encoder knows before the intra
  search (the skip and inter costs, the inter error, the luma variance, $\lambda$) predicts whether intra
  will win; when it says no, the intra search is skipped. Encoder only: the stream is unchanged in form.
* **learned loop filter**: chapter 5's quality-conditioned CNN, fine-tuned on this codec's own decoded frames
  (Foreman 0-49 and BSDS500 stills, loop filter off), in its integer form.

All decoder-side networks were trained on BSDS500 or Foreman 0-49 (never the test frames) and run as integer
networks (`helpers.fixedpoint`), so the decoder forms the encoder's prediction to the bit on any machine.
""")

code(r"""
tools = [t for t in hybrid.TOOL_NAMES if t != "classic"]
print(f"{'tool':24s}" + "".join(f"{name:>22s}" for name in study["sequences"]))
for tool in tools:
    cells = []
    for entry in study["sequences"].values():
        value = entry["bd_rate_vs_classic"][tool]
        cells.append(f"{value['psnr_yuv']:+6.2f} % ({value['psnr_y']:+6.2f} %)")
    print(f"{tool:24s}" + "".join(f"{c:>22s}" for c in cells))
print("BD-rate against the classic codec, PSNR-YUV (PSNR-Y); negative saves bits")
print()
print(f"{'tool':24s}{'encode s':>10s}{'mode search s':>15s}{'decode s':>10s}   (sum over sequences and qualities)")
for tool in ["classic", *tools]:
    points = [p for entry in study["sequences"].values() for p in entry["curves"][tool]]
    print(f"{tool:24s}{sum(p['encode_s'] for p in points):10.1f}{sum(p['search_s'] for p in points):15.1f}"
          f"{sum(p['decode_s'] for p in points):10.1f}")
""")

md(r"""
READING_TOOLS
""")

md(r"""
### The intra tools where intra matters: every frame intra
In a P-frame sequence the intra tools can only act on the first frame and the few intra macroblocks, so their
gain is bounded by the share of the bits those take. Li et al. measure intra prediction with every frame coded
intra; the study does the same on every fourth test frame:
""")

code(r"""
print(f"{'tool (every frame intra)':34s}" + "".join(f"{name:>22s}" for name in study["sequences"]))
for tool in next(iter(study["sequences"].values()))["all_intra"]["bd_rate_vs_classic"]:
    cells = [f"{e['all_intra']['bd_rate_vs_classic'][tool]['psnr_yuv']:+6.2f} % ({e['all_intra']['bd_rate_vs_classic'][tool]['psnr_y']:+6.2f} %)"
             for e in study["sequences"].values()]
    print(f"{tool:34s}" + "".join(f"{c:>22s}" for c in cells))
share = result.bits_per_frame[0] / sum(result.bits_per_frame)
print(f"in section 2's {len(result.bits_per_frame)} frames the I-frame takes {share:.0%} of the bits; "
      f"intra macroblocks in the P-frames: {sum(int((t == 2).sum()) for t in result.types[1:])}")
for name, entry in study["sequences"].items():
    intra_mbs = [p["intra_macroblocks"] for p in entry["curves"]["classic"]]
    print(f"{name}: intra macroblocks in all P-frames at qualities {study['qualities']}: {intra_mbs}")
""")

md(r"""
READING_ALL_INTRA
""")

md(r"""
### Half resolution at low rate
Coding at half size pays only when the rate is so low that the full-size frame is mostly blocking; the study
adds two very low qualities (3 and 6) for it:
""")

code(r"""
for name, entry in study["sequences"].items():
    low = entry["low_rate"]
    rows = [f"q{p['quality']}: {p['bytes']} B {p['psnr_yuv']:.2f} dB" for p in low["classic"]]
    half = [f"{p['bytes']} B {p['psnr_yuv']:.2f} dB ({p['half_resolution_frames']} half-size frames)"
            for p in low["half resolution"]]
    print(f"{name}: BD-rate at low rate {entry['bd_rate_half_resolution_low_rate']:+.2f} %")
    for a, b in zip(rows, half, strict=True):
        print(f"   classic {a}  |  half resolution {b}")
""")

md(r"""
### A tool switched on, frame by frame
Bits and luma PSNR per frame with and without a tool (here on this notebook's frames, coded live):
""")

code(r"""
figure, text = widgets.tool_frames_view(frames, quality=25, tool="learned loop filter")
plt.show()
print(text)
""")

code(r"""
widgets.tool_explorer(frames)
""")

md(r"""
## 5. Bit-exact decoding with every tool on
A learned tool inside the loop is a contract between encoder and decoder: the decoder must form the same
prediction, or every later frame drifts. Float networks do not give that across machines (chapter 4, section
9). Every decoder-side network here is an integer network: weights with 14-18 fraction bits, sums in integers,
rounding shifts, ReLU as `max(v, 0)` (`helpers.fixedpoint`, chapter 4, section 10). The test suite decodes every
combination of tools on real frames and compares with the encoder's reconstruction; here, all at once:
""")

code(r"""
everything = hybrid.Tools(learned_intra=True, linear_chroma=True, learned_chroma=True, half_resolution=True,
                          fast_mode=True, loop_filter="learned")
small = {k: v[:3] for k, v in frames.items()}
result_all = hybrid.analyze(small, 20, everything)
decoded_all = hybrid.decode(result_all.data)
print("every tool on, decoded bit-exactly:", all(np.array_equal(decoded_all[k], result_all.decoded[k]) for k in "yuv"))
modes = np.concatenate([m.ravel() for m in result_all.luma_modes])
print(f"learned intra mode chosen for {np.mean(modes[modes >= 0] == 6):.0%} of intra luma blocks; chroma modes used: "
      f"{sorted({intra.CHROMA_MODES[m] for c in result_all.chroma_modes for m in c.ravel() if m >= 0})}")
network = learned.load_integer("intra").network
print("the learned intra mode as integers:", [(row["kind"], row["fraction_in"], row["fraction_out"]) for row in network.summary()])
""")

md(r"""
## 6. A learned P-frame codec in the manner of DVC
DVC (Lu et al., CVPR 2019) replaces the whole loop: motion is estimated, compressed by an autoencoder, used to
warp the reference, refined by a network, and the residual is compressed by a hyperprior; everything is trained
together with $R + \lambda D$. `pframe.PFrameCodec` is that design at CPU size: block matching (8 × 8, the hybrid
codec's search) instead of an optical-flow network, a two-layer motion autoencoder with a factorized entropy
model, a three-layer compensation CNN, and chapter 4's hyperprior (N = 64, M = 96) fine-tuned on residuals. It
was trained on Foreman 0-49 and BSDS500 crops moved by random shifts, rotations and zooms: 2,000 steps with
$R + \lambda D$ alone, then 1,200 with the prediction's own error added to the loss (weight 1 fading to 0). The
second stage was needed: trained jointly from the start, the compensation network stopped predicting (its output
was 11 dB from the frame while the plain warp was at 34.5 dB) and the residual coder did the work, intra-like, at a
higher rate; DVC trains its motion modules first for the same reason. Rates are real bytes from CompressAI's range
coder; it is a float decoder (same machine only).
""")

code(r"""
pstudy = data.reference("video_pframe_study")
figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for axis, (name, entry) in zip(axes, pstudy["sequences"].items(), strict=True):
    for label, style in (("hybrid P-frames", "o-"), ("learned P-frames", "s-"), ("x264 -bf 0 P-frames", "^--")):
        points = entry[label]
        axis.plot([p["bits_per_p_frame"] / 1000 for p in points], [p["psnr_yuv"] for p in points], style, label=label)
    axis.set(xlabel="kbit per P-frame", ylabel="PSNR-YUV of P-frames [dB]", title=name)
axes[0].legend(fontsize=8)
figure.tight_layout()
plt.show()
for name, entry in pstudy["sequences"].items():
    gains = ", ".join(f"model {p['model']}: {p['bits_per_p_frame'] / 1000:.1f} kbit, {p['gain_db_at_equal_rate']:+.1f} dB"
                      for p in entry["learned P-frames"] if p["gain_db_at_equal_rate"] is not None)
    print(f"{name}: learned against hybrid P-frames at equal rate: {gains}; motion share {entry['motion_share']:.0%}")
""")

md(r"""
Where the quality goes: PSNR-Y frame by frame, the learned codec (model 1) against the hybrid codec at quality 12,
both from an I-frame:
""")

code(r"""
figure, axes = plt.subplots(1, 3, figsize=(13, 3.2))
for axis, (name, entry) in zip(axes, pstudy["sequences"].items(), strict=True):
    axis.plot(entry["learned P-frames"][0]["psnr_y_per_frame"], "s-", markersize=3, label="learned, model 1")
    axis.plot(entry["hybrid P-frames"][1]["psnr_y_per_frame"], "o-", markersize=3, label="hybrid, quality 12")
    axis.set(xlabel="frame", ylabel="PSNR-Y [dB]", title=name)
axes[0].legend(fontsize=8)
figure.tight_layout()
plt.show()
""")

md(r"""
READING_PFRAME
""")

code(r"""
model = pframe.load_pretrained(1)
first = hybrid.analyze({k: v[:1] for k, v in frames.items()}, 45)
coded = pframe.code_sequence(model, {k: v[:3] for k, v in frames.items()}, [first.decoded[k][0] for k in "yuv"])
quality_p = hybrid.psnr({k: v[1:3] for k, v in frames.items()}, {k: v[1:] for k, v in coded["decoded"].items()})
print(f"learned P-frames 1-2: {sum(coded['bytes'])} bytes ({sum(coded['motion_bytes'])} of motion), PSNR-YUV {quality_p['yuv']:.2f} dB, {coded['seconds']:.2f} s")
""")

md(r"""
## Exercises
Solutions are in `lessons/10_video_tools.md`.
1. ★ Which intra mode wins where: count the luma modes of Foreman frame 50 at quality 25 (`result.luma_modes`).
2. ★ $\lambda$ and skip: code four frames at quality 10 and 60 and compare the share of skipped macroblocks.
3. ★★ Chroma from luma by hand: fit $\alpha$, $\beta$ with `np.polyfit` on a block's neighbours and compare with
   `intra.linear_from_luma`.
4. ★★ The fast mode decision's threshold: how many intra searches does each threshold keep, and how many of the
   macroblocks where intra really won?
5. ★★★ Where the learned P-frame codec spends its bits: code Bus frames 1-3 with `pframe.load_pretrained(1)` and
   split each P-frame's bytes into motion and residual (`code_sequence(...)["motion_bytes"]`).

## Checks
""")

code(r"""
assert all(np.array_equal(decoded[k], result.decoded[k]) for k in "yuv")  # the decoder reads only the bytes
assert all(np.array_equal(decoded_all[k], result_all.decoded[k]) for k in "yuv")  # bit-exact with every tool on
assert result.bits_per_frame[1] < result.bits_per_frame[0] / 2  # a P-frame costs far less than the I-frame
assert hybrid.psnr(frames, decoded)["y"] > 30
assert all(e["bd_rate_classic_vs"]["x264 medium"]["psnr_yuv"] > 0 for e in study["sequences"].values())
print("all checks passed")
""")

code(r"""
# NBVAL_CHECK_OUTPUT
plane = np.add.outer(np.arange(16), 2 * np.arange(16)).astype(np.uint8)
top, left, corner = intra.neighbours(plane, 8, 8)
print("DC, vertical, horizontal of a ramp:", [int(p[0, 0]) for p in intra.classic_predictions(top, left, corner)[:3]])
tiny = {"y": np.full((2, 16, 16), 100, np.uint8), "u": np.full((2, 8, 8), 128, np.uint8),
        "v": np.full((2, 8, 8), 128, np.uint8)}
stream = hybrid.encode(tiny, 50)
print("two flat frames:", len(stream), "bytes, magic", stream[:4], "decodes to 100:", bool((hybrid.decode(stream)["y"] == 100).all()))
""")

md(r"""
## Summary
SUMMARY

## References
- D. Liu, Y. Li, J. Lin, H. Li and F. Wu, "Deep Learning-Based Video Coding: A Review and a Case Study", ACM
  Computing Surveys 53(1), 2020.
- J. Li, B. Li, J. Xu, R. Xiong and W. Gao, "Fully Connected Network-Based Intra Prediction for Image Coding",
  IEEE Transactions on Image Processing 27(7), 2018.
- G. Lu, W. Ouyang, D. Xu, X. Zhang, C. Cai and Z. Gao, "DVC: An End-to-end Deep Video Compression Framework",
  CVPR 2019.
- T. Wiegand, G. J. Sullivan, G. Bjøntegaard and A. Luthra, "Overview of the H.264/AVC Video Coding Standard",
  IEEE TCSVT 13(7), 2003 (modes, skip, Lagrangian mode decision).
- J. Chen, Y. Ye and S. Kim, "Algorithm description for Versatile Video Coding and Test Model (VTM)", JVET
  (cross-component linear model).
- J. Ballé, N. Johnston and D. Minnen, "Integer Networks for Data Compression with Latent-Variable Models",
  ICLR 2019.
""")


def main() -> int:
    texts = {}
    for arg in sys.argv[1:]:
        key, _, path = arg.partition("=")
        texts[key] = Path(path).read_text().strip()
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}}  # fmt: skip
    for kind, text in CELLS:
        for key, value in texts.items():
            text = text.replace(key, value)
        cell = (
            nbformat.v4.new_markdown_cell(text)
            if kind == "markdown"
            else nbformat.v4.new_code_cell(text)
        )
        notebook.cells.append(cell)
    nbformat.write(notebook, ROOT / "notebooks" / "10_video_tools.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
