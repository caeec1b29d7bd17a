//===- HeaderTest.cpp - Tests of the generated C header -------------------===//
//
// This file tests emitHeader and the identifier rules: the header declares
// NAME_run with one typed pointer per input and output, states sizes and
// shapes as macros, includes nothing but <stddef.h>/<stdint.h>, and compiles
// as C99 (checked by compiling it with the system's C compiler).
//
//===----------------------------------------------------------------------===//

#include "codegen/common/ModelSignature.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>

using namespace kiln;

namespace {

ModelSignature sampleModel() {
  ModelSignature m;
  m.name = "net";
  m.source = "net.onnx";
  m.inputs = {{"input.1", 1, {1, 3, 8, 8}}, {"ids", 7, {1, 16}}};
  m.outputs = {{"logits", 1, {1, 10}}, {"mask", 9, {1, 16}}};
  m.workspaceSize = 12345;
  m.workspaceAlign = 64;
  m.workspaceLowerBound = 12000;
  m.weightsSize = 678;
  m.codeSize = 4321;
  m.target = "thumbv7em-none-eabihf (cortex-m4)";
  return m;
}

TEST(Header, Identifiers) {
  EXPECT_EQ(makeCIdentifier("resnet-50"), "resnet_50");
  EXPECT_EQ(makeCIdentifier("3net"), "_3net");
  EXPECT_EQ(makeCIdentifier(""), "_");
  EXPECT_EQ(makeCIdentifier("a.b/c"), "a_b_c");
}

TEST(Header, DeclaresRunWithTypedPointers) {
  std::string h = emitHeader(sampleModel());
  EXPECT_NE(h.find("int net_run(const float *input_1, const int64_t *ids, "
                   "float *logits, uint8_t *mask, void *workspace);"),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("const struct kiln_model_info *net_info(void);"),
            std::string::npos);
}

TEST(Header, QuantizedModelStatesFloatWeights) {
  ModelSignature m = sampleModel();
  EXPECT_EQ(emitHeader(m).find("FLOAT_WEIGHTS_SIZE"), std::string::npos);
  m.floatWeightsSize = 2712;
  std::string h = emitHeader(m);
  EXPECT_NE(h.find("#define net_WEIGHTS_SIZE 678\n#define "
                   "net_FLOAT_WEIGHTS_SIZE 2712\n"),
            std::string::npos);
  EXPECT_NE(h.find("quantized: the float model's weights are 2712"),
            std::string::npos);
}

TEST(Header, StatesSizesAndShapes) {
  std::string h = emitHeader(sampleModel());
  EXPECT_NE(h.find("#define net_WORKSPACE_SIZE 12345\n"), std::string::npos);
  EXPECT_NE(h.find("#define net_WORKSPACE_ALIGN 64\n"), std::string::npos);
  EXPECT_NE(h.find("#define net_WEIGHTS_SIZE 678\n"), std::string::npos);
  EXPECT_NE(h.find("#define net_WORKSPACE_LOWER_BOUND 12000\n"),
            std::string::npos);
  EXPECT_NE(h.find("#define net_CODE_SIZE 4321\n"), std::string::npos);
  EXPECT_NE(h.find("#define net_INPUT_0_SHAPE {1, 3, 8, 8}\n"),
            std::string::npos);
  EXPECT_NE(h.find("#define net_INPUT_0_NAME \"input.1\"\n"),
            std::string::npos);
  EXPECT_NE(h.find("#define net_INPUT_1_DTYPE 7"), std::string::npos);
  EXPECT_NE(h.find("#define net_OUTPUT_1_SIZE 16"), std::string::npos);
}

TEST(Header, SpellsOutValues) {
  // Plain tensors: one value each.
  std::string plain = emitHeader(sampleModel());
  EXPECT_NE(plain.find("#define net_NUM_INPUT_VALUES 2\n"), std::string::npos);
  EXPECT_NE(plain.find("#define net_OUTPUT_VALUE_1_FIRST 1\n"),
            std::string::npos);
  // A sequence of two tensors and an optional compiled empty.
  ModelSignature m = sampleModel();
  m.outputs.push_back({"logits", 1, {2}});
  m.outputValues = {{"seq", 1, 1, 1, 0, 2},
                    {"mask", 0, 1, 9, 2, 1},
                    {"opt", 2, 0, 1, 3, 0}};
  std::string h = emitHeader(m);
  EXPECT_NE(h.find("/* output 0 'seq': a sequence of 2 tensors, outputs 0 to "
                   "1 */\n#define net_OUTPUT_VALUE_0_NAME \"seq\"\n"
                   "#define net_OUTPUT_VALUE_0_KIND 1 /* KILN_VALUE_SEQUENCE "
                   "*/\n#define net_OUTPUT_VALUE_0_PRESENT 1\n"
                   "#define net_OUTPUT_VALUE_0_FIRST 0\n"
                   "#define net_OUTPUT_VALUE_0_COUNT 2\n"),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("/* output 2 'opt': an optional, compiled empty, no "
                   "tensors */"),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("#define net_OUTPUT_VALUE_2_PRESENT 0\n"),
            std::string::npos);
}

TEST(Header, ExplainsMemory) {
  ModelSignature m = sampleModel();
  std::string h = emitHeader(m);
  EXPECT_NE(h.find("Memory on thumbv7em-none-eabihf (cortex-m4), in bytes:"),
            std::string::npos)
      << h;
  // The inputs: 192 floats and 16 int64s; the outputs 10 floats, 16 bools.
  EXPECT_NE(h.find("inputs   896, outputs 56 "), std::string::npos) << h;
  // An arena above its lower bound says why.
  EXPECT_NE(h.find("lower bound 12000"), std::string::npos);
  EXPECT_NE(h.find("could\n              not share addresses"),
            std::string::npos)
      << h;
  m.workspaceLowerBound = m.workspaceSize;
  EXPECT_EQ(emitHeader(m).find("not share addresses"), std::string::npos);
}

TEST(Header, IncludesOnlyStandardHeaders) {
  std::string h = emitHeader(sampleModel());
  std::regex include("#include <([^>]+)>");
  for (auto it = std::sregex_iterator(h.begin(), h.end(), include);
       it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[1];
    EXPECT_TRUE(name == "stddef.h" || name == "stdint.h") << name;
  }
  EXPECT_EQ(h.find("#include \""), std::string::npos);
}

TEST(Header, DuplicateParameterNamesAreMadeUnique) {
  ModelSignature m = sampleModel();
  m.inputs = {{"x.1", 1, {2}}, {"x_1", 1, {2}}};
  m.outputs = {{"workspace", 1, {2}}};
  std::string h = emitHeader(m);
  EXPECT_NE(h.find("const float *x_1, const float *x_1_2, float *workspace_2, "
                   "void *workspace)"),
            std::string::npos)
      << h;
}

TEST(Header, CompilesAsC99AndCxx) {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/kiln_header_test.h";
  std::ofstream(path) << emitHeader(sampleModel());
  std::string c = dir + "/kiln_header_test.c";
  std::ofstream(c)
      << "#include \"kiln_header_test.h\"\n"
         "int main(void) { return net_NUM_INPUTS == 2 ? 0 : 1; }\n";
  std::string cmd = "cc -std=c99 -pedantic -Wall -Werror -fsyntax-only " + c;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string cxx = dir + "/kiln_header_test.cpp";
  std::ofstream(cxx) << "#include \"kiln_header_test.h\"\n"
                        "int (*run)(const float *, const int64_t *, float *,\n"
                        "           uint8_t *, void *) = net_run;\n"
                        "int main() { return run != net_run; }\n";
  cmd = "c++ -std=c++17 -Wall -Werror -fsyntax-only " + cxx;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

} // namespace
