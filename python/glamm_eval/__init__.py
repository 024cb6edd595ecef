"""glamm-eval from Python: drop-in, Java-free replacements for pycocotools and pycocoevalcap, and the GLaMM task
evaluators, on the same C++ core as the ``glamm-eval`` command line (numbers identical to it).

Submodules:
    glamm_eval.coco     ``COCO`` and ``COCOeval`` (pycocotools 2.0.6: ``from pycocotools.coco import COCO``)
    glamm_eval.mask     ``encode``, ``decode``, ``iou``, ``merge``, ``area``, ``toBbox``, ``frPyObjects``
    glamm_eval.caption  ``PTBTokenizer``, ``Bleu``, ``Meteor``, ``Rouge``, ``Cider``, ``SpiceStyle``, ``COCOEvalCap``
    glamm_eval.tasks    ``gcg``, ``refseg``, ``regcap``, ``imagecap`` (the CLI's records, as dicts)

Errors in input files raise :class:`InputError`, a :class:`ValueError` carrying ``file`` and ``record``.
Guide: docs/python.md of the repository.
"""

from glamm_eval._core import InputError, __version__

__all__ = ["InputError", "__version__"]
