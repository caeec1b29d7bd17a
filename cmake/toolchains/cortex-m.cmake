# What Kiln's Cortex-M toolchain files share: bare metal with Debian's
# gcc-arm-none-eabi and newlib, Thumb and the hard-float ABI. The including
# file sets KILN_CORTEX_M_CPU (cortex-m4, cortex-m7, cortex-m55) and
# KILN_CORTEX_M_FLAGS (its -mcpu and -mfpu), then includes this one;
# kiln_add_model() compiles models for --target=KILN_CORTEX_M_CPU. The
# firmware supplies its own startup code and linker script (see
# examples/cortex-m).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR ${KILN_CORTEX_M_CPU})
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# No operating system to run a test program on while configuring.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "${KILN_CORTEX_M_FLAGS} -mthumb -mfloat-abi=hard")
set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
set(CMAKE_ASM_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(KILN_TARGET ${KILN_CORTEX_M_CPU} CACHE STRING
    "kilnc --target for kiln_add_model")
