# KilnAddModel.cmake - kiln_add_model(), from the installed Kiln package.
#
#   kiln_add_model(NAME MODEL path/to/model.onnx
#                  [TARGET host|x86_64|aarch64|cortex-m4|cortex-m7|cortex-m55|TRIPLE]
#                  [OPTIONS kilnc-option...])
#
# Runs kilnc at build time (again whenever the model or kilnc changes) to
# compile MODEL into NAME.a and NAME.h in the build tree, and defines NAME,
# a static library target: link it (target_link_libraries(app PRIVATE NAME))
# and the model's code, its weights and the Kiln runtime for that target
# come with it, and NAME.h and kiln/runtime.h are on the include path. The
# symbols are NAME_run, NAME_info, NAME_WORKSPACE_SIZE...
#
# TARGET defaults to KILN_TARGET, which Kiln's toolchain files set, and
# otherwise to the host when not cross-compiling, or to aarch64 when
# CMAKE_SYSTEM_PROCESSOR says so. OPTIONS go to kilnc as they are (-O2,
# --mcpu=..., --input-shape=..., --max-workspace=...).

function(kiln_add_model name)
  cmake_parse_arguments(PARSE_ARGV 1 KILN "" "MODEL;TARGET" "OPTIONS")
  if(KILN_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kiln_add_model(${name}): unknown arguments "
                        "${KILN_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT KILN_MODEL)
    message(FATAL_ERROR "kiln_add_model(${name}): MODEL is required")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "kiln_add_model(${name}): the name must be a C "
                        "identifier (it prefixes the model's symbols)")
  endif()
  get_filename_component(model "${KILN_MODEL}" ABSOLUTE
                         BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "kiln_add_model(${name}): no model ${model}")
  endif()

  set(target "${KILN_TARGET}")
  if(NOT target)
    if(NOT CMAKE_CROSSCOMPILING)
      set(target host)
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
      set(target aarch64)
    else()
      message(FATAL_ERROR "kiln_add_model(${name}): cross-compiling for "
        "'${CMAKE_SYSTEM_PROCESSOR}'; say which target with TARGET (e.g. "
        "cortex-m4) or KILN_TARGET")
    endif()
  endif()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/kiln/${name}")
  set(lib "${dir}/${name}.a")
  set(header "${dir}/${name}.h")
  # An imported target's include directory must exist at generation.
  file(MAKE_DIRECTORY "${dir}")
  add_custom_command(
    OUTPUT "${lib}" "${header}"
    COMMAND Kiln::kilnc "${model}" -o "${lib}" --name=${name}
            --target=${target} ${KILN_OPTIONS}
    DEPENDS "${model}" "${KILN_KILNC_EXECUTABLE}"
    COMMENT "kilnc: ${KILN_MODEL} for ${target} -> ${name}.a, ${name}.h"
    VERBATIM)
  add_custom_target(${name}_kilnc DEPENDS "${lib}" "${header}")

  add_library(${name} STATIC IMPORTED GLOBAL)
  set_target_properties(${name} PROPERTIES
    IMPORTED_LOCATION "${lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${dir};${KILN_INCLUDE_DIR}")
  add_dependencies(${name} ${name}_kilnc)
  # The runtime's thread pool, on targets with an operating system.
  if(target MATCHES "^(host|x86_64|aarch64)$" OR target MATCHES "-linux")
    find_package(Threads REQUIRED)
    set_property(TARGET ${name} APPEND PROPERTY
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
endfunction()
