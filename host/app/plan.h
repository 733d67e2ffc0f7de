// plan.h — `initscope plan`: what a run would do (configurations, trials, FLOPs, memory, chunking)
// and how long it would take on the chosen device, without running the experiment.
#pragma once
#include <string>

#include "host/app/config.h"
#include "host/backend/backend.h"

namespace isc {

// The device's GEMM rate in FLOP/s, measured with a few batched GEMMs through the backend's own
// gemm_forward (about a tenth of a second).
double measure_gemm_rate(Backend& b);

// The plan as text: one line per configuration and the totals; `gemm_rate` in FLOP/s (0: no time
// estimate).
std::string plan_text(const Experiment& ex, const Backend& b, double gemm_rate);

}  // namespace isc
