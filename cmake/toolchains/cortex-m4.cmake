# Bare-metal Cortex-M4: Armv7E-M, FPv4-SP, hard-float ABI (see cortex-m.cmake).
set(KILN_CORTEX_M_CPU cortex-m4)
set(KILN_CORTEX_M_FLAGS "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16")
include(${CMAKE_CURRENT_LIST_DIR}/cortex-m.cmake)
