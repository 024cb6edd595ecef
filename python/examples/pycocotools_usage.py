"""COCO detection/segmentation evaluation written the way pycocotools' own demo (pycocoEvalDemo) uses the API.
Only the three import lines differ from a pycocotools script.

Usage: python3 pycocotools_usage.py INSTANCES.json RESULTS.json segm|bbox
"""
import sys

import numpy as np

from glamm_eval.coco import COCO            # was: from pycocotools.coco import COCO
from glamm_eval.cocoeval import COCOeval    # was: from pycocotools.cocoeval import COCOeval
import glamm_eval.mask as maskUtils         # was: import pycocotools.mask as maskUtils

annFile, resFile, annType = sys.argv[1], sys.argv[2], sys.argv[3]

cocoGt = COCO(annFile)
cocoDt = cocoGt.loadRes(resFile)
imgIds = sorted(cocoGt.getImgIds())

cocoEval = COCOeval(cocoGt, cocoDt, annType)
cocoEval.params.imgIds = imgIds
cocoEval.evaluate()
cocoEval.accumulate()
cocoEval.summarize()

# The arrays behind the summary.
precision = cocoEval.eval['precision']  # [T, R, K, A, M]
print('precision', precision.shape, 'AP50 all/100 per category (first 3):',
      [round(float(np.mean(precision[0, :, k, 0, 2])), 6) for k in range(3)])
print('stats', ' '.join(repr(float(s)) for s in cocoEval.stats))

# The mask API on the first ground-truth annotation.
ann = cocoGt.loadAnns(cocoGt.getAnnIds(imgIds=imgIds[0]))[0]
rle = cocoGt.annToRLE(ann)
m = maskUtils.decode(rle)
print('first annotation', ann['id'], 'mask', m.shape, 'area', int(maskUtils.area(rle)),
      'bbox', maskUtils.toBbox(rle).tolist())
