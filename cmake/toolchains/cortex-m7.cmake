# Bare-metal Cortex-M7: Armv7E-M, FPv5 with double precision, hard-float ABI
# (see cortex-m.cmake).
set(KILN_CORTEX_M_CPU cortex-m7)
set(KILN_CORTEX_M_FLAGS "-mcpu=cortex-m7 -mfpu=fpv5-d16")
include(${CMAKE_CURRENT_LIST_DIR}/cortex-m.cmake)
