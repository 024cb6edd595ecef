// Caption evaluation uses the one image-id type of glamm-eval (common/image_id.h).
#pragma once

#include "common/image_id.h"

namespace glamm::caption {
using glamm::ImageId;
}  // namespace glamm::caption
