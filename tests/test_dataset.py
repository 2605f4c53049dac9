"""Dataset reading and validation: each bad input gives its own one-line message."""
import io
import json
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from op3d.data.cameras import flip_label, sample_cameras
from op3d.data.dataset import DatasetError, ImageDataset


def png(size=(8, 8), color=(10, 20, 30), mode="RGB"):
    buf = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else 0).save(buf, format="png")
    return buf.getvalue()


def write_zip(path, files: dict):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data if isinstance(data, bytes) else json.dumps(data))
    return path


def good_files(n=4, size=8):
    labels = sample_cameras(n, torch.Generator().manual_seed(0)).tolist()
    files = {f"img{i}.png": png((size, size), (10 * i, 20, 30)) for i in range(n)}
    files["dataset.json"] = {"labels": [[f"img{i}.png", labels[i]] for i in range(n)]}
    return files


def test_reads_zip_and_folder(tmp_path):
    files = good_files()
    ds = ImageDataset(write_zip(tmp_path / "d.zip", files))
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    ds2 = ImageDataset(folder)
    assert len(ds) == len(ds2) == 4 and ds.resolution == 8
    img, label = ds[2]
    assert img.dtype == torch.uint8 and img.shape == (3, 8, 8) and img[0, 0, 0] == 20
    assert torch.equal(label, torch.tensor(files["dataset.json"]["labels"][2][1], dtype=torch.float32))
    assert torch.equal(ds2[2][0], img)


def test_upper_case_extensions_and_windows_names_in_dataset_json(tmp_path):
    """Images named IMG0.PNG / .JPG count as images, and dataset.json written on Windows (sub\\img.png) names
    the zip's sub/img.png: each image keeps its own label."""
    files = good_files(3)
    labels = files.pop("dataset.json")["labels"]
    renamed = {f"sub/IMG{i}.PNG": files[f"img{i}.png"] for i in range(3)}
    renamed["dataset.json"] = {"labels": [[f"sub\\IMG{i}.PNG", label] for i, (_, label) in enumerate(labels)]}
    ds = ImageDataset(write_zip(tmp_path / "d.zip", renamed))
    assert ds.image_names == [f"sub/IMG{i}.PNG" for i in range(3)]
    for i in range(3):
        assert torch.equal(ds[i][1], torch.tensor(labels[i][1], dtype=torch.float32))
        assert int(ds[i][0][0, 0, 0]) == 10 * i


def test_xflip_doubles_and_flips_image_and_camera(tmp_path):
    files = good_files(2)
    arr = np.zeros((8, 8, 3), np.uint8)
    arr[:, :2] = 255  # left stripe
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="png")
    files["img0.png"] = buf.getvalue()
    ds = ImageDataset(write_zip(tmp_path / "d.zip", files), xflip=True)
    assert len(ds) == 4
    img, label = ds[0]
    fimg, flabel = ds[2]
    assert torch.equal(fimg, img.flip(-1)) and fimg[0, 0, -1] == 255
    torch.testing.assert_close(flabel, flip_label(label))


BAD = {
    "no_json": (lambda f: f.pop("dataset.json"), "missing dataset.json"),
    "missing_label": (lambda f: f["dataset.json"]["labels"].pop(), "no label for 1 image"),
    "extra_label": (lambda f: f["dataset.json"]["labels"].append(["ghost.png", [0.0] * 25]), "without an image"),
    "short_label": (lambda f: f["dataset.json"]["labels"][0].__setitem__(1, [0.0] * 24), "has 24 values"),
    "nan_label": (lambda f: f["dataset.json"]["labels"][0][1].__setitem__(3, float("nan")), "NaN, inf"),
    "float32_overflow": (lambda f: f["dataset.json"]["labels"][0][1].__setitem__(3, 1e39), "beyond float32"),
    "absurd_value": (lambda f: f["dataset.json"]["labels"][0][1].__setitem__(3, 3e5), r"3e\+05 \(more than 10000"),
    "not_pow2": (lambda f: [f.__setitem__(f"img{i}.png", png((12, 12))) for i in range(4)], "not a power of two"),
    "zero_cam2world": (lambda f: f["dataset.json"]["labels"][1][1].__setitem__(slice(0, 16), [0.0] * 16),
                       "img1.png: cam2world's rotation is not orthonormal"),
    "reflection": (lambda f: f["dataset.json"]["labels"][2][1].__setitem__(0, -f["dataset.json"]["labels"][2][1][0]),
                   "img2.png: cam2world's rotation is not orthonormal|reflection"),
    "pixel_intrinsics": (lambda f: f["dataset.json"]["labels"][0][1].__setitem__(
        slice(16, 25), [2985.29, 0, 350, 0, 2985.29, 350, 0, 0, 1]), "img0.png: intrinsics look like pixels"),
    "principal_point": (lambda f: f["dataset.json"]["labels"][3][1].__setitem__(18, 1.5), "img3.png: principal point"),
    "bad_json": (lambda f: f.__setitem__("dataset.json", b"{not json"), "invalid JSON"),
    "empty": (lambda f: [f.pop(k) for k in list(f)], "no images found"),
}


def truncated_png():
    data = png((8, 8), (1, 2, 3))
    return data[: len(data) // 2]


def zeroed_png():
    """A PNG whose compressed pixel data (IDAT) was zeroed: the header still reads fine."""
    data = bytearray(png((8, 8), (1, 2, 3)))
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8:start - 4], "big")
    data[start:start + length] = bytes(length)
    return bytes(data)


# Bad images past the first: found when the image is read, or by check_images="all" (op3d dataset check)
BAD_IMAGES = {
    "non_square": (lambda f: f.__setitem__("img1.png", png((8, 6))), "img1.png: image is 8x6; images must be square"),
    "mismatched": (lambda f: f.__setitem__("img1.png", png((16, 16))), "img1.png: image is 16x16 but the first"),
    "corrupt_image": (lambda f: f.__setitem__("img1.png", b"\x89PNG garbage"), "img1.png: unreadable image"),
    "truncated": (lambda f: f.__setitem__("img1.png", truncated_png()), "img1.png: unreadable image"),
    "zeroed_pixels": (lambda f: f.__setitem__("img1.png", zeroed_png()), "img1.png: unreadable image"),
}


def bad_zip(tmp_path, table: dict, case: str):
    """A zip of good_files() changed by table[case]'s mutation, and the message expected for it."""
    files = good_files()
    mutate, message = table[case]
    mutate(files)
    return write_zip(tmp_path / "bad.zip", files), message


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_datasets(tmp_path, case):
    path, message = bad_zip(tmp_path, BAD, case)
    with pytest.raises(DatasetError, match=message) as info:
        ImageDataset(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("case", sorted(BAD_IMAGES))
def test_bad_images_are_named_when_read_and_by_a_full_check(tmp_path, case):
    path, message = bad_zip(tmp_path, BAD_IMAGES, case)
    ds = ImageDataset(path)  # opening reads only the first image
    assert ds[0][0].shape == (3, 8, 8)
    with pytest.raises(DatasetError, match=message):
        ds[1]
    with pytest.raises(DatasetError, match=message) as info:
        ImageDataset(path, check_images="all")
    assert "\n" not in str(info.value)


def test_opening_reads_only_dataset_json_and_the_first_image(tmp_path, monkeypatch):
    from op3d.data import dataset as dataset_module

    path = write_zip(tmp_path / "d.zip", good_files(50))
    reads = []
    real = dataset_module._Source.read
    monkeypatch.setattr(dataset_module._Source, "read", lambda self, name: reads.append(name) or real(self, name))
    ds = ImageDataset(path)
    assert sorted(reads) == ["dataset.json", "img0.png"] and len(ds) == 50
    reads.clear()
    ImageDataset(path, check_images="all")
    assert len(reads) == 52  # and every image decoded (the first one's header was read first)


def test_a_bad_image_in_a_dataloader_worker_reaches_the_cli_as_one_line(tmp_path):
    from op3d.cli import one_line

    files = good_files(8)
    files["img5.png"] = truncated_png()
    ds = ImageDataset(write_zip(tmp_path / "d.zip", files))
    batches = iter(torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2))
    try:
        with pytest.raises(DatasetError) as info:
            list(batches)
    finally:  # stop the workers now: left to the garbage collector (the traceback holds them) it takes 10 s
        batches._shutdown_workers()
    line = one_line(info.value)
    assert line.endswith("img5.png: unreadable image (" + line.split("unreadable image (")[1]) and "\n" not in line
    assert str(tmp_path / "d.zip") in line


def test_corrupt_zip(tmp_path):
    path = tmp_path / "broken.zip"
    data = write_zip(tmp_path / "ok.zip", good_files()).read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(DatasetError, match="corrupt or unreadable zip"):
        ImageDataset(path)


def test_dataloader_workers_over_zip(tmp_path):
    files = good_files(40)
    ds = ImageDataset(write_zip(tmp_path / "d.zip", files))
    expected = torch.stack([ds[i][0] for i in range(len(ds))])  # opens the zip in this process before fork()
    for _ in range(3):  # forked workers must not share the parent's file handle (interleaved reads corrupt)
        loader = torch.utils.data.DataLoader(ds, batch_size=5, num_workers=3, shuffle=True,
                                             generator=torch.Generator().manual_seed(0))
        got = {}
        for images, labels in loader:
            for img, lab in zip(images, labels):
                got[int(torch.nonzero((torch.from_numpy(ds.labels) == lab).all(1))[0])] = img
        assert len(got) == 40 and all(torch.equal(got[i], expected[i]) for i in range(40))


def _posed_dataset(tmp_path, poses, extra=None):
    import json

    from PIL import Image

    root = tmp_path / "posed"
    root.mkdir()
    labels = []
    camera = sample_cameras(1, torch.Generator().manual_seed(0))[0].tolist()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (8, 8), (255, 255, 255)).save(root / name)
        labels.append([name, camera])
    meta = {"labels": labels, "poses": poses, **(extra or {})}
    (root / "dataset.json").write_text(json.dumps(meta))
    return root


def test_pose_parameters_are_read_in_image_order_and_validated(tmp_path):
    import pytest

    from op3d.data.dataset import DatasetError, ImageDataset

    good = [["b.png", [2.0] * 85], ["a.png", [1.0] * 85]]
    root = _posed_dataset(tmp_path, good, {"body_model": "procedural"})
    ds = ImageDataset(root, use_poses=True)
    assert ds.has_poses and ds.body_model == "procedural" and ds.poses.shape == (2, 85)
    image, label, pose = ds[1]
    assert pose.shape == (85,) and float(pose[0]) == 2.0 and float(ds[0][2][0]) == 1.0
    assert len(ImageDataset(root)[0]) == 2  # without use_poses: (image, label) as before
    with pytest.raises(DatasetError, match="mirroring"):
        ImageDataset(root, use_poses=True, xflip=True)
    cases = {"no pose for 1": [["a.png", [1.0] * 85]], "has 84 values": [["a.png", [1.0] * 84], ["b.png", [0] * 85]],
             "NaN, inf": [["a.png", [float("nan")] * 85], ["b.png", [0] * 85]],
             "not numeric": [["a.png", ["x"] * 85], ["b.png", [0] * 85]],
             "without an image": [["a.png", [0] * 85], ["b.png", [0] * 85], ["c.png", [0] * 85]]}
    for i, (message, poses) in enumerate(cases.items()):
        sub = tmp_path / str(i)
        sub.mkdir()
        with pytest.raises(DatasetError, match=message):
            ImageDataset(_posed_dataset(sub, poses), use_poses=True)


def test_unposed_dataset_refuses_use_poses(tmp_path):
    import pytest

    from op3d.data.dataset import DatasetError, ImageDataset

    root = _posed_dataset(tmp_path, [["a.png", [0] * 85], ["b.png", [0] * 85]])
    meta = json.loads((root / "dataset.json").read_text())
    (root / "dataset.json").write_text(json.dumps({"labels": meta["labels"]}))
    with pytest.raises(DatasetError, match="no .poses."):
        ImageDataset(root, use_poses=True)


def test_transparency_is_composited_on_white_and_exif_orientation_applied(tmp_path):
    """A fully transparent pixel over red is background (white), half transparent is blended; a photo with an EXIF
    orientation is read upright (as PARE and viewers see it), in datasets and in op3d dataset pack."""
    from op3d.data.pack import write_dataset

    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255  # red everywhere
    rgba[0, 0, 3], rgba[0, 1, 3], rgba[1:, :, 3] = 0, 128, 255
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="png")
    files = good_files(2)
    files["img1.png"] = buf.getvalue()
    img = ImageDataset(write_zip(tmp_path / "a.zip", files))[1][0]
    assert img[:, 0, 0].tolist() == [255, 255, 255]  # transparent red -> white
    assert img[:, 0, 1].tolist() == [255, 127, 127]  # half: blended
    assert img[:, 3, 3].tolist() == [255, 0, 0]
    marked = np.zeros((8, 8, 3), np.uint8)
    marked[0, 0] = 255  # top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(marked).save(photos / "p.png", exif=exif)
    label = files["dataset.json"]["labels"][0][1]
    out = write_dataset(photos, ["p.png"], {"p.png": label}, tmp_path / "packed.zip", 8)
    packed = ImageDataset(out)[0][0]
    assert packed[:, 0, -1].sum() > 3 * 200 and packed[:, 0, 0].sum() < 3 * 50  # the marker is top-right now


def test_a_zip_of_the_dataset_folder_says_where_dataset_json_is(tmp_path):
    """Zipping the folder instead of its contents puts dataset.json one level down: the error says so."""
    files = good_files(2)
    nested = write_zip(tmp_path / "nested.zip", {f"mydata/{k}": v for k, v in files.items()})
    with pytest.raises(DatasetError, match="nested.zip: dataset.json must be at the top level, found "
                                           "mydata/dataset.json: zip the contents of mydata"):
        ImageDataset(nested)
    assert len(ImageDataset(write_zip(tmp_path / "flat.zip", files))) == 2


def test_null_labels_say_the_dataset_was_packed_without_cameras(tmp_path):
    """StyleGAN's / EG3D's dataset_tool writes "labels": null when it had none to write."""
    files = good_files(2)
    files["dataset.json"] = {"labels": None}
    with pytest.raises(DatasetError, match=r"expected .* \(labels is null: the dataset was packed without them\)$"):
        ImageDataset(write_zip(tmp_path / "null.zip", files))
    files["dataset.json"] = {"labels": {}}
    with pytest.raises(DatasetError, match=r"\.\.\.\]\}$"):  # not null: the layout alone
        ImageDataset(write_zip(tmp_path / "dict.zip", files))


def test_pack_scales_sixteen_bit_grey_and_refuses_images_without_a_range(tmp_path):
    """A 16-bit grey PNG is scaled to 8 bits (Pillow's RGB conversion clipped every level above 255 to white);
    32-bit integer and float images have no range to scale from: refused, naming the file."""
    from op3d.data.pack import write_dataset

    levels = np.array([[0, 257, 32896, 65535]], np.uint16).repeat(4, 0)  # 0, 1, 128, 255 in 8 bits
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(levels).save(photos / "g16.png")
    assert Image.open(photos / "g16.png").mode.startswith("I;16")
    label = good_files(1)["dataset.json"]["labels"][0][1]
    packed = ImageDataset(write_dataset(photos, ["g16.png"], {"g16.png": label}, tmp_path / "a.zip", 4,
                                        crop="none"))[0][0]
    assert packed[0, 0].tolist() == [0, 1, 128, 255] and (packed == packed[:1]).all()
    for mode, pixels in (("I", levels.astype(np.int32)), ("F", levels.astype(np.float32))):
        Image.fromarray(pixels, mode).save(photos / f"{mode}.tif")
        with pytest.raises(DatasetError, match=rf"{mode}.tif: unreadable image \(.*pixels \(mode {mode}\) have no "):
            write_dataset(photos, [f"{mode}.tif"], {f"{mode}.tif": label}, tmp_path / "b.zip", 4)


def test_zip_and_json_edge_cases_are_refused_at_open(tmp_path):
    """Duplicate members or entries (the last one used to win silently), encrypted members, compressions Python
    cannot read, declared sizes no image has, JSON nested 100,000 deep."""
    files = good_files()
    path = write_zip(tmp_path / "dup.zip", files)
    with zipfile.ZipFile(path, "a") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("img1.png", png((8, 8), (1, 1, 1)))
    with pytest.raises(DatasetError, match="member img1.png appears twice"):
        ImageDataset(path)

    def patched(name, offset, value, size):
        """A copy of the zip whose central-directory entry for `name` has `value` at `offset` (little endian)."""
        out = tmp_path / f"{name}-{offset}.zip"
        data = bytearray(write_zip(out, files).read_bytes())
        start = data.index(b"PK\x01\x02")
        while data[start + 46:start + 46 + int.from_bytes(data[start + 28:start + 30], "little")] != name.encode():
            start = data.index(b"PK\x01\x02", start + 4)
        data[start + offset:start + offset + size] = value.to_bytes(size, "little")
        out.write_bytes(bytes(data))
        return out

    with pytest.raises(DatasetError, match="member img2.png is encrypted"):
        ImageDataset(patched("img2.png", 8, 1, 2))  # general-purpose flag bit 0
    with pytest.raises(DatasetError, match="member img1.png uses compression method 99"):
        ImageDataset(patched("img1.png", 10, 99, 2))
    with pytest.raises(DatasetError, match="member img3.png is 1024 MiB"):
        ImageDataset(patched("img3.png", 24, 1 << 30, 4))  # declared uncompressed size
    deep = dict(files, **{"dataset.json": b"[" * 100_000 + b"]" * 100_000})
    with pytest.raises(DatasetError, match="nested too deeply"):
        ImageDataset(write_zip(tmp_path / "deep.zip", deep))
    twice = good_files()
    twice["dataset.json"]["labels"].append(list(twice["dataset.json"]["labels"][0]))
    with pytest.raises(DatasetError, match="img0.png has two labels entries"):
        ImageDataset(write_zip(tmp_path / "twice.zip", twice))
