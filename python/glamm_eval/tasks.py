"""The GLaMM task evaluators in-process: ``gcg``, ``refseg``, ``regcap``, ``imagecap``.

Each function runs what the ``glamm-eval <task>`` command runs — the same checks before any work (coverage guards,
resources, output paths), the same loaders, the same task function of the C++ task layer — and returns the results
record the command writes with ``--json``, as a Python dict: ``json.load`` of the CLI's record file and the dict
returned here are equal, key for key and number for number, except ``timestamp`` (when the record was made). The
record's layout is described in reports/SCHEMA.md of the repository (``metrics``, ``metric_order``, ``signature``,
``signature_string``, ``inputs``, ``input_sha256``, ``warnings``, ``details``, ``per_sample``, ``tool_version``,
``timestamp``, ...).

Keyword arguments mirror the command's flags (``--allow-missing`` → ``allow_missing=True``, ``--text-sim`` →
``text_sim=...``); paths may be ``str`` or ``os.PathLike``. What differs from the CLI:

* nothing is printed on stdout; stage messages and warnings go to stderr unless ``quiet=True`` (the warnings are in
  the record's ``warnings`` too);
* no record file is written unless ``json=PATH`` is given (then the same record is written atomically, as the CLI
  writes it; never over one of the run's inputs);
* where no METEOR resources are named, each finds its own copy (the package's ``glamm_eval/share``, the CLI's next
  to the binary) and the record's ``signature.meteor_resources`` names the folder read (same checksum);
* NoCaps test (no public captions) raises :class:`ScoringRefused` where the CLI exits with status 3.

Errors: bad input files and arguments raise :class:`glamm_eval.InputError` (a ``ValueError``) with ``file`` and
``record`` naming the file and the record (or the option: errors raised by checks the CLI shares name its flag,
e.g. ``'--bert'``); missing METEOR resources or a missing BERT plugin raise ``InputError`` with a message saying how
to get them. The evaluation runs with the GIL released.
"""

import json as _json
import os as _os

from glamm_eval import _core
from glamm_eval._args import input_error, threads_arg

__all__ = ["gcg", "refseg", "regcap", "imagecap", "ScoringRefused"]


class ScoringRefused(RuntimeError):
    """Raised by :func:`imagecap` for NoCaps test (the CLI's exit status 3): its captions are not public, so nothing
    can be scored. ``submission`` holds the EvalAI submission list (``[{"image_id": int, "caption": str}, ...]``,
    image order); ``path`` is where it was written (the ``submission=`` argument) or ``None``."""

    def __init__(self, message, submission, path):
        super().__init__(message)
        self.submission = submission
        self.path = path


def _path(value):
    """A path argument as the C++ side takes it ("" for None)."""
    return "" if value is None else _os.fspath(value)


def _input_error(option, message):
    """An InputError for a bad argument, shaped as the C++ ones (file None, record = the argument)."""
    return input_error(None, option, message)


_threads = threads_arg


def _record(text):
    return _json.loads(text)


def gcg(*, pred=None, gt_dir="./data/GranDf/annotations/val_test", split="val", text_sim=None, bert=None,
        allow_missing=False, sample=False, meteor_resources=None, meteor_paraphrase=None, label=None, strict=False,
        threads=0, quiet=False, json=None):
    """Grounded Conversation Generation on GranD-f, as ``glamm-eval gcg`` (GLaMM's eval/gcg/evaluate.py): mask
    AP/AP50, METEOR, CIDEr and the other caption metrics, mIoU and mask recall.

    Args:
        pred: predictions folder with one ``<image_id>.json`` per image (GLaMM's infer.py layout), or a list of such
            folders (shards; an image predicted in two folders is an error). ``--pred``.
        gt_dir: folder with ``{split}_gcg_coco_caption_gt.json`` and ``{split}_gcg_coco_mask_gt.json``.
            ``--gt-dir``; default ``./data/GranDf/annotations/val_test`` as the CLI.
        split: ``"val"`` or ``"test"``. ``--split``.
        text_sim: phrase-similarity table (``gt_label<TAB>pred_label<TAB>similarity``; a missing pair counts 0.0)
            used by mask recall instead of BERT. ``--text-sim``.
        bert: bert-base-uncased folder for the recall's phrase similarity, as the official evaluation (needs the
            BERT plugin ``libglamm_bert.so``, built with libtorch; it is loaded only here, and its absence raises
            ``InputError`` saying so). Default: env ``GLAMM_BERT`` when ``text_sim`` is not given. ``--bert``.
            Give ``bert`` or ``text_sim``, not both.
        allow_missing: score an image without a prediction file as an empty prediction (counted in the record)
            instead of raising ``InputError``. ``--allow-missing``.
        sample: evaluate the built-in synthetic GranD-f sample (6 images; no data, no BERT; METEOR only when its
            resources are found) instead of ``pred``/``gt_dir``/``text_sim``: its files are written to
            ``<json stem>.sample/`` next to the record, so ``json`` is required; the record's signature says
            ``data: synthetic``. Its numbers are no model's score. ``--sample``.
        meteor_resources: METEOR resources folder (english.synsets, english.exceptions, english.words,
            english.prefixes) or pycocoevalcap's meteor-1.5.jar; default: env ``GLAMM_METEOR_RESOURCES``, an
            installed pycocoevalcap, else the copy shipped with the package. ``--meteor-resources``.
        meteor_paraphrase: METEOR paraphrase table (paraphrase-en.gz); ``"-"`` or ``"off"``: none; default found as
            docs/meteor-resources.md says. ``--meteor-paraphrase``.
        label: the record's label; default the first predictions folder's name (``builtin-sample`` with
            ``sample``). ``--label``.
        strict: correct the reference quirks docs/quirks.md (gcg) lists instead of reproducing them; the record's
            ``signature.strict`` says which. ``--strict``.
        threads: worker threads, 0 = all cores (numbers do not depend on it). ``--threads``.
        quiet: no stage messages or warnings on stderr. ``--quiet``.
        json: also write the record to this path (atomically, parent folders created). ``--json``.

    Returns:
        dict: the results record (task ``gcg``, dataset ``grandf``): ``metrics`` METEOR, CIDEr, AP50, mIoU, Recall,
        AP, then the other caption metrics; ``per_sample`` one entry per caption-GT image. Equal to ``json.load``
        of the CLI's ``--json`` record except ``timestamp``.

    Raises:
        glamm_eval.InputError: no ``pred`` (without ``sample``), bad or missing input files (naming file and
            record), missing predictions without ``allow_missing``, no phrase similarity (neither ``bert``, ``text_sim`` nor ``GLAMM_BERT``), both given,
            a missing BERT plugin or bad BERT folder, METEOR resources not found, ``json`` not writable or naming
            an input.
    """
    if pred is None:
        pred_dirs = []
    elif isinstance(pred, (str, bytes, _os.PathLike)):
        pred_dirs = [_path(pred)]
    else:
        pred_dirs = [_path(p) for p in pred]
    if not pred_dirs and not sample:
        raise _input_error("pred", "give the predictions folder(s) (or sample=True for the built-in set)")
    return _record(_core.tasks.gcg(
        split=split, gt_dir=_path(gt_dir), pred_dirs=pred_dirs, text_sim=_path(text_sim), bert=_path(bert),
        allow_missing=bool(allow_missing), sample=bool(sample), meteor_resources=_path(meteor_resources),
        meteor_paraphrase=_path(meteor_paraphrase), label=label or "", strict=bool(strict), threads=_threads(threads),
        quiet=bool(quiet), json_path=_path(json)))


def refseg(*, dataset, pred, split_by=None, split="val", data_root="./data", refer_dir=None, allow_missing=False,
           only_present=False, glamm_sampling=None, gt_overlap="union", label=None, strict=False, threads=0,
           quiet=False, json=None):
    """Referring-expression segmentation cIoU / gIoU, as ``glamm-eval refseg`` (GLaMM's
    eval/referring_seg/infer_and_evaluate.py; paper Table 4): every sentence of the split by default.

    Args:
        dataset: ``"refcoco"``, ``"refcoco+"``, ``"refcocog"`` or ``"refclef"``. ``--dataset``.
        pred: predictions, JSON Lines with one ``{"sent_id", "ref_id", "image_id", "mask": compressed RLE}`` per
            sentence, or a JSON array of them. ``--pred``.
        split_by: ``"unc"``, ``"umd"``, ``"google"``, ``"berkeley"``; default ``umd`` for refcocog, ``unc``
            otherwise (as GLaMM). ``--split-by``.
        split: e.g. ``"val"``, ``"testA"``; ``"test"`` selects every split containing "test" as the REFER API does.
            ``--split``.
        data_root: GLaMM's data folder; the REFER files are read from ``<data_root>/Refer_Segm/<dataset>/``.
            ``--data-root``.
        refer_dir: folder with ``refs(<split_by>).p`` and ``instances.json`` (overrides ``data_root``).
            ``--refer-dir``.
        allow_missing: score sentences without a prediction as empty masks (counted) instead of raising.
            ``--allow-missing``.
        only_present: score only the sentences that have a prediction (said in the record). ``--only-present``.
            Not together with ``allow_missing``.
        glamm_sampling: an int seed: reproduce GLaMM's protocol of at most 3 random sentences per image drawn with
            this seed. ``--glamm-sampling``.
        gt_overlap: ``"union"`` (overlapping polygon parts give 1) or ``"sum"`` (GLaMM's summed parts).
            ``--gt-overlap``.
        label: the record's label; default the predictions file's stem (its folder's name for
            predictions.json(l) / results.json). ``--label``.
        strict: exact arithmetic instead of GLaMM's float32 sums (docs/quirks.md, refseg). ``--strict``.
        threads: worker threads, 0 = all cores. ``--threads``.
        quiet: no stage messages or warnings on stderr. ``--quiet``.
        json: also write the record to this path. ``--json``.

    Returns:
        dict: the results record (task ``refseg``): ``metrics`` cIoU and gIoU, ``details`` (float32 strings
        ``giou_str``/``ciou_str``, sums, split counts), ``per_sample`` one entry per scored sentence. Equal to
        ``json.load`` of the CLI's record except ``timestamp``.

    Raises:
        glamm_eval.InputError: unknown dataset / split_by pair / gt_overlap, missing or bad REFER files, a bad
            prediction (naming the file and line), missing predictions under the default coverage, both
            ``allow_missing`` and ``only_present``, ``json`` not writable.
    """
    if glamm_sampling is not None and (isinstance(glamm_sampling, bool) or not isinstance(glamm_sampling, int)
                                       or glamm_sampling < 0):
        raise _input_error("glamm_sampling", f"must be a non-negative int seed, got {glamm_sampling!r}")
    return _record(_core.tasks.refseg(
        dataset=dataset, pred=_path(pred), split_by=split_by or "", split=split, data_root=_path(data_root),
        refer_dir=_path(refer_dir), allow_missing=bool(allow_missing), only_present=bool(only_present),
        glamm_sampling=glamm_sampling, gt_overlap=gt_overlap, label=label or "", strict=bool(strict),
        threads=_threads(threads), quiet=bool(quiet), json_path=_path(json)))


def regcap(*, dataset, pred, annotations=None, data_root="./data", allow_missing=False, only_present=False,
           meteor_resources=None, meteor_paraphrase=None, label=None, strict=False, threads=0, quiet=False,
           json=None):
    """Region captioning (RefCOCOg, Visual Genome; paper Table 5), as ``glamm-eval regcap`` (GLaMM's
    eval/region_captioning/evaluate.py: COCOEvalCap over the GT), every GT region scored unless ``only_present``.

    Args:
        dataset: ``"refcocog"`` or ``"vg"``. ``--dataset``.
        pred: predictions, a JSON list ``[{"image_id", "caption"}]`` or GLaMM's results folder (every ``*.json``
            except merged.json). ``--pred``.
        annotations: the region-caption GT file; default
            ``<data_root>/RefCoco_Reg/mdetr_annotations/finetune_refcocog_val_captions.json`` (refcocog) or
            ``<data_root>/visual_genome/test_caption.json`` (vg). ``--annotations``.
        data_root: GLaMM's data folder. ``--data-root``.
        allow_missing: score a GT region without a prediction as an empty caption (counted) instead of raising.
            ``--allow-missing``.
        only_present: score only the regions with a prediction (the reference's behaviour; said in the record).
            ``--only-present``. Not together with ``allow_missing``.
        meteor_resources: METEOR resources folder or meteor-1.5.jar (default as for :func:`gcg`).
            ``--meteor-resources``.
        meteor_paraphrase: paraphrase table, ``"-"``/``"off"`` for none. ``--meteor-paraphrase``.
        label: the record's label; default from the predictions path as the CLI. ``--label``.
        strict: caption line breaks become spaces instead of reproducing the reference (docs/quirks.md).
            ``--strict``.
        threads: worker threads, 0 = all cores. ``--threads``.
        quiet: no stage messages or warnings on stderr. ``--quiet``.
        json: also write the record to this path. ``--json``.

    Returns:
        dict: the results record (task ``regcap``): ``metrics`` COCOEvalCap's Bleu_1..4, METEOR, ROUGE_L, CIDEr;
        ``per_sample`` one entry per scored region. Equal to ``json.load`` of the CLI's record except
        ``timestamp``.

    Raises:
        glamm_eval.InputError: unknown dataset, a missing or bad GT / prediction file (naming file and record),
            missing predictions under the default coverage, unknown or repeated ids, METEOR resources not found,
            ``json`` not writable.
    """
    return _record(_core.tasks.regcap(
        dataset=dataset, pred=_path(pred), annotations=_path(annotations), data_root=_path(data_root),
        allow_missing=bool(allow_missing), only_present=bool(only_present),
        meteor_resources=_path(meteor_resources), meteor_paraphrase=_path(meteor_paraphrase), label=label or "",
        strict=bool(strict), threads=_threads(threads), quiet=bool(quiet), json_path=_path(json)))


def imagecap(*, dataset, annotations, pred, split=None, no_spice=False, submission=None, allow_missing=False,
             only_present=False, meteor_resources=None, meteor_paraphrase=None, label=None, strict=False, threads=0,
             quiet=False, json=None):
    """Zero-shot image captioning (paper Table 6) on Flickr30k (Karpathy split) and NoCaps (overall and per
    domain), as ``glamm-eval imagecap``: COCOEvalCap's metrics plus, unless ``no_spice``, the SPICE-style score
    (Link Grammar parser in place of SPICE's CoreNLP; recorded as ``SPICE-style``, never ``SPICE``).

    Args:
        dataset: ``"flickr30k"`` or ``"nocaps"``. ``--dataset``.
        annotations: dataset_flickr30k.json (Karpathy) or nocaps_val_4500_captions.json /
            nocaps_test_image_info.json. ``--annotations``.
        pred: predictions, a JSON list ``[{"image_id", "caption"}]`` (Flickr30k: the photo id of the file name, an
            int; NoCaps: images[].id), or a folder of such lists. ``--pred``.
        split: Flickr30k ``"test"`` (default), ``"val"``, ``"train"``; NoCaps ``"val"`` (default) or ``"test"``.
            ``--split``.
        no_spice: skip the SPICE-style score (it parses every caption, ~3-5 ms each). ``--no-spice``.
        submission: NoCaps test: where to write the EvalAI submission list (not written when None).
            ``--submission``.
        allow_missing: score an image without a prediction as an empty caption (counted) instead of raising.
            ``--allow-missing``.
        only_present: score only the images with a prediction (said in the record). ``--only-present``.
        meteor_resources: METEOR resources folder or meteor-1.5.jar (also SPICE-style's synonyms).
            ``--meteor-resources``.
        meteor_paraphrase: paraphrase table, ``"-"``/``"off"`` for none. ``--meteor-paraphrase``.
        label: the record's label; default from the predictions path as the CLI. ``--label``.
        strict: caption line breaks become spaces instead of reproducing the reference. ``--strict``.
        threads: worker threads (also the parser's), 0 = all cores. ``--threads``.
        quiet: no stage messages or warnings on stderr. ``--quiet``.
        json: also write the record to this path. ``--json``.

    Returns:
        dict: the results record (task ``imagecap``): ``metrics`` COCOEvalCap's, ``SPICE-style (Link Grammar
        parser)`` unless ``no_spice``, and ``<domain>/CIDEr`` for NoCaps; ``per_sample`` one entry per scored
        image. Equal to ``json.load`` of the CLI's record except ``timestamp``.

    Raises:
        ScoringRefused: NoCaps test (no public captions; the CLI exits with status 3): carries the submission list.
        glamm_eval.InputError: unknown dataset or split, bad annotation / prediction files (naming file and
            record), missing predictions under the default coverage, METEOR resources (or, for SPICE-style, the
            Link Grammar dictionary) not found, ``json`` not writable.
    """
    record, sub = _core.tasks.imagecap(
        dataset=dataset, annotations=_path(annotations), pred=_path(pred), split=split or "",
        no_spice=bool(no_spice), submission=_path(submission), allow_missing=bool(allow_missing),
        only_present=bool(only_present), meteor_resources=_path(meteor_resources),
        meteor_paraphrase=_path(meteor_paraphrase), label=label or "", strict=bool(strict),
        threads=_threads(threads), quiet=bool(quiet), json_path=_path(json))
    if not record:
        entries = _json.loads(sub)
        where = f"written to {_path(submission)}" if submission is not None else "not written (pass submission=PATH)"
        raise ScoringRefused(f"nocaps test: captions are not public, nothing is scored; {len(entries)} predictions "
                             f"for the EvalAI submission list ({where})", entries,
                             _path(submission) if submission is not None else None)
    return _record(record)
