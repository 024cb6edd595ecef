"""COCO caption evaluation written the way pycocoevalcap's own example (example/coco_eval_example.py) and the
harnesses built on it use the API: COCOEvalCap on a COCO object and its loaded results, then the scorers called one
by one on PTBTokenizer output. Only the import lines differ from a pycocotools + pycocoevalcap script.

METEOR's resources and paraphrase table are found as `glamm-eval captions` finds them (env GLAMM_METEOR_RESOURCES,
GLAMM_METEOR_PARAPHRASE, ...; docs/meteor-resources.md).

Usage: python3 pycocoevalcap_usage.py CAPTIONS_GT.json RESULTS.json
"""
import sys

from glamm_eval.coco import COCO                 # was: from pycocotools.coco import COCO
from glamm_eval.caption import COCOEvalCap       # was: from pycocoevalcap.eval import COCOEvalCap
from glamm_eval.caption import PTBTokenizer      # was: from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
from glamm_eval.caption import Bleu              # was: from pycocoevalcap.bleu.bleu import Bleu
from glamm_eval.caption import Meteor            # was: from pycocoevalcap.meteor.meteor import Meteor
from glamm_eval.caption import Rouge             # was: from pycocoevalcap.rouge.rouge import Rouge
from glamm_eval.caption import Cider             # was: from pycocoevalcap.cider.cider import Cider

annotation_file = sys.argv[1]
results_file = sys.argv[2]

# create coco object and coco_result object
coco = COCO(annotation_file)
coco_result = coco.loadRes(results_file)

# create coco_eval object by taking coco and coco_result
coco_eval = COCOEvalCap(coco, coco_result)

# evaluate on the images that have results
coco_eval.params['image_id'] = coco_result.getImgIds()

# evaluate results
coco_eval.evaluate()

# print output evaluation scores
for metric, score in coco_eval.eval.items():
    print(f'{metric}: {score:.3f}')

# the same scores at full precision, and the per-image scores
for metric, score in coco_eval.eval.items():
    print('eval', metric, repr(float(score)))
for img in coco_eval.evalImgs:
    print('image', img['image_id'], ' '.join(f'{m}={float(v)!r}' for m, v in img.items() if m != 'image_id'))

# the scorers one by one, on the tokenized captions
gts = {}
res = {}
for img_id in coco_result.getImgIds():
    gts[img_id] = coco.imgToAnns[img_id]
    res[img_id] = coco_result.imgToAnns[img_id]
tokenizer = PTBTokenizer()
gts = tokenizer.tokenize(gts)
res = tokenizer.tokenize(res)

scorers = [
    (Bleu(4), ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"]),
    (Meteor(), "METEOR"),
    (Rouge(), "ROUGE_L"),
    (Cider(), "CIDEr"),
]
for scorer, method in scorers:
    score, scores = scorer.compute_score(gts, res)
    if type(method) == list:
        for sc, scs, m in zip(score, scores, method):
            print('scorer', m, repr(float(sc)), 'images', len(scs))
    else:
        print('scorer', method, repr(float(score)), 'images', len(scores))
