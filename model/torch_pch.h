// Precompiled header of the torch targets (glamm_model, glamm_runners): the ATen API the model code uses.
// Only model/ and runners/ may include torch headers.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
