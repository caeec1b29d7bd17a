# -*- Python -*-
# lit configuration for Kiln: FileCheck tests of the dialect, every pass, the
# importer and the kilnc driver. Run through ctest (test "lit").
import os

import lit.formats

config.name = "Kiln"
config.test_format = lit.formats.ShTest(not config.kiln_use_external_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "e2e", "unit", "models"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")

# Kiln's tools first, then LLVM's FileCheck / not / count.
config.environment["PATH"] = os.pathsep.join(
    [config.kiln_tools_dir, config.llvm_tools_dir,
     config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "compiler", "Inputs")))
config.substitutions.append(("%runtime_include", os.path.join(os.path.dirname(config.test_source_root), "runtime", "include")))
