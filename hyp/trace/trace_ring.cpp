#include "trace/trace_ring.h"

void TraceRing::init(TraceRecord* storage, u32 n)
{
    recs_ = storage;
    mask_ = n - 1;
    head_ = 0;
}
