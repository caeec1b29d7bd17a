# Bare-metal Cortex-M55: Armv8.1-M with Helium (the M-profile vector
# extension, integer and float), hard-float ABI (see cortex-m.cmake).
set(KILN_CORTEX_M_CPU cortex-m55)
set(KILN_CORTEX_M_FLAGS "-mcpu=cortex-m55")
include(${CMAKE_CURRENT_LIST_DIR}/cortex-m.cmake)
