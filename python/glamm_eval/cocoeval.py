"""``COCOeval`` under pycocotools' module name: ``from glamm_eval.cocoeval import COCOeval`` (see glamm_eval.coco)."""

from glamm_eval.coco import COCOeval, Params

__all__ = ["COCOeval", "Params"]
