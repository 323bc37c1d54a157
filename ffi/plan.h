/* The launch plan's encoding (ffi/PLAN.md); the op codes are generated into init/op-table.h. */
#ifndef TSRUN_PLAN_H
#define TSRUN_PLAN_H

#define PLAN_MAGIC "TSRP"
#define PLAN_VERSION 1

#include "init/op-table.h"

#endif
