#include "trace/trace-hw_misc_amdkfd_mc.h"
