"""helpers.jpeg.bitstream: Huffman symbols, markers, restart intervals and the bit accounting."""

import numpy as np
import pytest
from pillow_oracle import pillow_decode  # noqa: E402

from helpers import jpeg

# ----------------------------------------------------------------------------- tables


def test_restart_intervals(photo):
    for subsampling in ("4:2:0", "4:4:4"):
        plain = jpeg.analyze(photo, 50, subsampling)
        for interval in (1, 5):
            restarted = jpeg.analyze(photo, 50, subsampling, restart_interval=interval)
            assert b"\xff\xdd" in restarted.data and b"\xff\xd0" in restarted.data
            np.testing.assert_array_equal(jpeg.decode(restarted.data), plain.reconstruction)
            np.testing.assert_array_equal(pillow_decode(restarted.data), plain.reconstruction)
    with pytest.raises(ValueError):
        jpeg.analyze(photo, 50, restart_interval=-1)


def test_analysis_accounts_for_every_bit(photo):
    analysis = jpeg.analyze(photo, 50, "4:2:0")
    assert analysis.block_bits.shape == (20, 25)
    split = analysis.split
    assert split["total"] == len(analysis.data)
    assert split["headers"] + split["tables"] + split["dc"] + split["ac"] + split[
        "padding_and_stuffing"
    ] == pytest.approx(split["total"])
    grids = jpeg.analyze_file(analysis.data).frame.accounting["block_bits"]  # the reader's count
    assert sum(int(g.sum()) for g in grids.values()) / 8 == pytest.approx(split["dc"] + split["ac"])
    assert jpeg.analyze_file(analysis.data).split == split  # one set of keys, the same numbers
    # the map covers the image's 8x8 grid; dummy blocks of the MCU padding fall outside it
    assert analysis.block_bits.sum() / 8 <= split["dc"] + split["ac"]
    np.testing.assert_array_equal(jpeg.decode(analysis.data), analysis.reconstruction)
    assert analysis.bpp == pytest.approx(8 * len(analysis.data) / (160 * 200))
    # the decoder's accounting of the same file agrees block by block
    from_file = jpeg.analyze_file(analysis.data)
    np.testing.assert_allclose(from_file.block_bits, analysis.block_bits)
    flat = np.zeros((160, 200, 3), np.uint8)
    assert jpeg.analyze(flat, 50).block_bits.max() < analysis.block_bits.max()


def test_magnitude_category_and_extra_bits():
    from helpers.jpeg.bitstream import magnitude_category

    values = np.array([0, 1, -1, 2, -3, 4, 255, -1023, 2047])
    assert magnitude_category(values).tolist() == [0, 1, 1, 2, 2, 3, 8, 10, 11]


def test_write_jpeg_rejects_bad_frames(photo):
    from helpers.jpeg.bitstream import JPEGError, write_jpeg

    analysis = jpeg.analyze(photo[:16, :16], 50)
    frame = analysis.frame
    frame.quant_tables[0] = np.full((8, 8), 300)
    with pytest.raises(JPEGError, match="1..255"):
        write_jpeg(frame)
    with pytest.raises(ValueError, match="restart_interval"):
        write_jpeg(jpeg.analyze(photo[:16, :16], 50).frame, restart_interval=70000)
