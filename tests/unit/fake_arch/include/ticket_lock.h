// Host tests of arch code use the portable ticket lock too.
#pragma once
#include "../../../../hyp/include/ticket_lock.h"
