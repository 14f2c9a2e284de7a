// Everything lives in the header as static inline functions; this file gives SwiftPM a C
// translation unit to build the module from.
#include "CLinuxShims.h"
