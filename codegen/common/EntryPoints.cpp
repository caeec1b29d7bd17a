//===- EntryPoints.cpp - The C ABI around a compiled graph ----------------===//
//
// This file implements the entry points of runtime.h in LLVM IR:
//
//   int NAME_run(in..., out..., void *ws)   checks pointers and alignment,
//       allocates the arena with kiln_alloc when ws is NULL, runs the graph
//       and returns its status (0, or KILN_ERROR_SHAPE from a run-time check);
//   static int NAME_run_generic(void *const *in, void *const *out, void *ws);
//   const kiln_model_info *NAME_info(void)  a constant descriptor;
//   const kiln_model_info *kiln_model(void) the same, for generic loaders.
//
// The struct layouts follow runtime.h through the target's DataLayout.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/EntryPoints.h"
#include "kiln/runtime.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;
using namespace kiln;

namespace {

/// Status codes of runtime.h.
enum : int { kErrorAlloc = 1, kErrorArgument = 2 };
constexpr unsigned kAbiVersion = 2;

class EntryPointBuilder {
public:
  EntryPointBuilder(Module &module, const ModelSignature &model)
      : module(module), ctx(module.getContext()), model(model),
        ptrTy(PointerType::getUnqual(ctx)), i32(Type::getInt32Ty(ctx)),
        i64(Type::getInt64Ty(ctx)) {
    // kiln_tensor_info {name, shape, dtype, rank, num_elements,
    //                   string_bytes}
    tensorInfoTy = StructType::create(ctx, {ptrTy, ptrTy, i32, i32, i64, i64},
                                      "kiln_tensor_info");
    // kiln_value_info {name, kind, present, dtype, first, count}
    valueInfoTy = StructType::create(ctx, {ptrTy, i32, i32, i32, i32, i32},
                                     "kiln_value_info");
    // kiln_model_info {abi, size, name, inputs, outputs, n_in, n_out,
    //                  ws_size, ws_align, weights_size, run,
    //                  input_values, output_values, n_in_v, n_out_v}
    modelInfoTy = StructType::create(ctx,
                                     {i32, i32, ptrTy, ptrTy, ptrTy, i32, i32,
                                      i64, i64, i64, ptrTy, ptrTy, ptrTy, i32,
                                      i32},
                                     "kiln_model_info");
  }

  Error build(StringRef graphName, bool exportKilnModel);

private:
  Constant *cString(const std::string &s, const Twine &name) {
    auto *init = ConstantDataArray::getString(ctx, s);
    return new GlobalVariable(module, init->getType(), true,
                              GlobalValue::PrivateLinkage, init, name);
  }
  Constant *tensorTable(const std::vector<TensorSignature> &tensors,
                        const std::string &what);
  Constant *valueTable(const std::vector<ValueSignature> &values,
                       const std::string &what);
  Function *buildStringEdges(Function *graph);
  Function *buildRun(Function *graph);
  Function *buildGenericRun(Function *run);

  Module &module;
  LLVMContext &ctx;
  const ModelSignature &model;
  PointerType *ptrTy;
  IntegerType *i32, *i64;
  StructType *tensorInfoTy, *valueInfoTy, *modelInfoTy;
};

} // namespace

Constant *
EntryPointBuilder::tensorTable(const std::vector<TensorSignature> &tensors,
                               const std::string &what) {
  std::vector<Constant *> entries;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorSignature &t = tensors[i];
    std::string prefix = model.name + "_" + what + std::to_string(i);
    std::vector<uint64_t> dims(t.shape.begin(), t.shape.end());
    Constant *shape = ConstantPointerNull::get(ptrTy);
    if (!dims.empty()) {
      auto *init = ConstantDataArray::get(ctx, dims);
      shape = new GlobalVariable(module, init->getType(), true,
                                 GlobalValue::PrivateLinkage, init,
                                 prefix + "_shape");
    }
    entries.push_back(ConstantStruct::get(
        tensorInfoTy,
        {cString(t.name, prefix + "_name"), shape,
         ConstantInt::get(i32, t.dtype), ConstantInt::get(i32, t.shape.size()),
         ConstantInt::get(i64, t.numElements()),
         ConstantInt::get(i64, t.stringBytes)}));
  }
  if (entries.empty())
    return ConstantPointerNull::get(ptrTy);
  auto *arrayTy = ArrayType::get(tensorInfoTy, entries.size());
  return new GlobalVariable(module, arrayTy, true, GlobalValue::PrivateLinkage,
                            ConstantArray::get(arrayTy, entries),
                            model.name + "_" + what + "s");
}

Constant *
EntryPointBuilder::valueTable(const std::vector<ValueSignature> &values,
                              const std::string &what) {
  std::vector<Constant *> entries;
  for (size_t i = 0; i < values.size(); ++i) {
    const ValueSignature &v = values[i];
    entries.push_back(ConstantStruct::get(
        valueInfoTy,
        {cString(v.name, model.name + "_" + what + "_value" +
                             std::to_string(i) + "_name"),
         ConstantInt::get(i32, v.kind), ConstantInt::get(i32, v.present),
         ConstantInt::get(i32, v.dtype), ConstantInt::get(i32, v.first),
         ConstantInt::get(i32, v.count)}));
  }
  if (entries.empty())
    return ConstantPointerNull::get(ptrTy);
  auto *arrayTy = ArrayType::get(valueInfoTy, entries.size());
  return new GlobalVariable(module, arrayTy, true, GlobalValue::PrivateLinkage,
                            ConstantArray::get(arrayTy, entries),
                            model.name + "_" + what + "_values");
}

/// The graph behind string edges, if the model has string inputs or
/// outputs: a function like the graph that copies the input strings into
/// their rows in the workspace (returning KILN_ERROR_SHAPE for one too
/// long), runs the graph on the rows, and points the output strings at
/// theirs.
Function *EntryPointBuilder::buildStringEdges(Function *graph) {
  std::vector<int64_t> offsets = stringSlotOffsets(model);
  if (llvm::all_of(offsets, [](int64_t o) { return o < 0; }))
    return graph;
  const DataLayout &dl = module.getDataLayout();
  Type *sizeTy = dl.getIntPtrType(ctx);
  FunctionCallee toSlots = module.getOrInsertFunction(
      "kiln_strings_to_slots",
      FunctionType::get(i32, {ptrTy, sizeTy, ptrTy, sizeTy}, false));
  FunctionCallee toStrings = module.getOrInsertFunction(
      "kiln_slots_to_strings",
      FunctionType::get(Type::getVoidTy(ctx), {ptrTy, sizeTy, sizeTy, ptrTy},
                        false));
  auto *fn = Function::Create(graph->getFunctionType(),
                              GlobalValue::InternalLinkage,
                              model.name + "_string_edges", module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", fn));
  std::vector<Value *> args;
  for (Argument &a : fn->args())
    args.push_back(&a);
  Value *ws = args.back();
  size_t numInputs = model.inputs.size();
  auto tensorAt = [&](size_t i) -> const TensorSignature & {
    return i < numInputs ? model.inputs[i] : model.outputs[i - numInputs];
  };
  std::vector<Value *> graphArgs = args;
  for (size_t i = 0; i < offsets.size(); ++i) {
    if (offsets[i] < 0)
      continue;
    Value *slot = b.CreateConstGEP1_64(b.getInt8Ty(), ws, offsets[i]);
    graphArgs[i] = slot;
    if (i >= numInputs)
      continue;
    const TensorSignature &t = tensorAt(i);
    Value *status = b.CreateCall(
        toSlots, {args[i], ConstantInt::get(sizeTy, t.numElements()), slot,
                  ConstantInt::get(sizeTy, t.stringBytes)});
    auto *fail = BasicBlock::Create(ctx, "string_too_long", fn);
    auto *next = BasicBlock::Create(ctx, "string_copied", fn);
    b.CreateCondBr(b.CreateICmpNE(status, ConstantInt::get(i32, 0)), fail,
                   next);
    b.SetInsertPoint(fail);
    b.CreateRet(status);
    b.SetInsertPoint(next);
  }
  Value *status = b.CreateCall(graph, graphArgs);
  for (size_t i = numInputs; i < offsets.size(); ++i) {
    if (offsets[i] < 0)
      continue;
    const TensorSignature &t = tensorAt(i);
    b.CreateCall(toStrings, {graphArgs[i],
                             ConstantInt::get(sizeTy, t.numElements()),
                             ConstantInt::get(sizeTy, t.stringBytes), args[i]});
  }
  b.CreateRet(status);
  return fn;
}

Function *EntryPointBuilder::buildRun(Function *graph) {
  size_t numArgs = model.inputs.size() + model.outputs.size() + 1;
  auto *fnTy =
      FunctionType::get(i32, std::vector<Type *>(numArgs, ptrTy), false);
  auto *run = Function::Create(fnTy, GlobalValue::ExternalLinkage,
                               model.name + "_run", module);
  run->addFnAttr(Attribute::NoUnwind);
  auto *entry = BasicBlock::Create(ctx, "entry", run);
  auto *badArg = BasicBlock::Create(ctx, "bad_argument", run);
  auto *checkWs = BasicBlock::Create(ctx, "check_workspace", run);
  auto *given = BasicBlock::Create(ctx, "given_workspace", run);
  auto *allocate = BasicBlock::Create(ctx, "allocate_workspace", run);
  auto *allocFailed = BasicBlock::Create(ctx, "allocation_failed", run);
  auto *runOwned = BasicBlock::Create(ctx, "run_owned", run);

  IRBuilder<> b(entry);
  std::vector<Value *> args;
  for (Argument &a : run->args())
    args.push_back(&a);
  Value *ws = args.back();
  args.pop_back();
  Value *anyNull = b.getFalse();
  for (Value *a : args)
    anyNull = b.CreateOr(anyNull, b.CreateIsNull(a));
  b.CreateCondBr(anyNull, badArg, checkWs);

  b.SetInsertPoint(badArg);
  b.CreateRet(ConstantInt::get(i32, kErrorArgument));

  // A given workspace must be aligned: planned buffers are read with aligned
  // vector loads.
  b.SetInsertPoint(checkWs);
  Value *isNull = b.CreateIsNull(ws);
  auto *misaligned = BasicBlock::Create(ctx, "check_alignment", run);
  b.CreateCondBr(isNull, allocate, misaligned);
  b.SetInsertPoint(misaligned);
  Value *low = b.CreateAnd(b.CreatePtrToInt(ws, i64),
                           ConstantInt::get(i64, model.workspaceAlign - 1));
  b.CreateCondBr(b.CreateICmpNE(low, ConstantInt::get(i64, 0)), badArg, given);

  b.SetInsertPoint(given);
  std::vector<Value *> callArgs = args;
  callArgs.push_back(ws);
  b.CreateRet(b.CreateCall(graph, callArgs));

  // NULL workspace: allocate through the runtime's replaceable hook, unless
  // the model needs none (then a private 64-byte block stands in). Output
  // strings point into the workspace: those need one from the caller.
  b.SetInsertPoint(allocate);
  bool stringOutputs = llvm::any_of(model.outputs, [](const TensorSignature &t) {
    return t.dtype == KILN_DTYPE_STRING;
  });
  if (stringOutputs) {
    b.CreateRet(ConstantInt::get(i32, kErrorArgument));
    allocFailed->eraseFromParent();
    runOwned->eraseFromParent();
    return run;
  }
  if (model.workspaceSize == 0) {
    auto *blockTy = ArrayType::get(Type::getInt8Ty(ctx), 64);
    auto *block = new GlobalVariable(
        module, blockTy, false, GlobalValue::PrivateLinkage,
        ConstantAggregateZero::get(blockTy), model.name + "_empty_workspace");
    block->setAlignment(Align(64));
    callArgs.back() = block;
    b.CreateRet(b.CreateCall(graph, callArgs));
    allocFailed->eraseFromParent();
    runOwned->eraseFromParent();
    return run;
  }
  FunctionCallee allocFn = module.getOrInsertFunction(
      "kiln_alloc", FunctionType::get(ptrTy, {i64, i64}, false));
  FunctionCallee freeFn = module.getOrInsertFunction(
      "kiln_free", FunctionType::get(Type::getVoidTy(ctx), {ptrTy}, false));
  Value *mem = b.CreateCall(
      allocFn,
      {ConstantInt::get(i64, std::max<int64_t>(model.workspaceSize, 1)),
       ConstantInt::get(i64, model.workspaceAlign)});
  b.CreateCondBr(b.CreateIsNull(mem), allocFailed, runOwned);
  b.SetInsertPoint(allocFailed);
  b.CreateRet(ConstantInt::get(i32, kErrorAlloc));
  b.SetInsertPoint(runOwned);
  callArgs.back() = mem;
  Value *status = b.CreateCall(graph, callArgs);
  b.CreateCall(freeFn, {mem});
  b.CreateRet(status);
  return run;
}

Function *EntryPointBuilder::buildGenericRun(Function *run) {
  auto *fnTy = FunctionType::get(i32, {ptrTy, ptrTy, ptrTy}, false);
  auto *generic = Function::Create(fnTy, GlobalValue::InternalLinkage,
                                   model.name + "_run_generic", module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", generic));
  Value *inputs = generic->getArg(0), *outputs = generic->getArg(1);
  auto *badArg = BasicBlock::Create(ctx, "bad_argument", generic);
  auto *ok = BasicBlock::Create(ctx, "call", generic);
  // A model without inputs may be given no input array.
  Value *anyNull = b.CreateIsNull(outputs);
  if (!model.inputs.empty())
    anyNull = b.CreateOr(b.CreateIsNull(inputs), anyNull);
  b.CreateCondBr(anyNull, badArg, ok);
  b.SetInsertPoint(badArg);
  b.CreateRet(ConstantInt::get(i32, kErrorArgument));
  b.SetInsertPoint(ok);
  std::vector<Value *> args;
  for (size_t i = 0; i < model.inputs.size(); ++i)
    args.push_back(b.CreateLoad(ptrTy, b.CreateConstGEP1_64(ptrTy, inputs, i)));
  for (size_t i = 0; i < model.outputs.size(); ++i)
    args.push_back(
        b.CreateLoad(ptrTy, b.CreateConstGEP1_64(ptrTy, outputs, i)));
  args.push_back(generic->getArg(2));
  b.CreateRet(b.CreateCall(run, args));
  return generic;
}

Error EntryPointBuilder::build(StringRef graphName, bool exportKilnModel) {
  Function *graph = module.getFunction(graphName);
  if (!graph)
    return createStringError(inconvertibleErrorCode(),
                             "internal error: no graph function '" + graphName +
                                 "'");
  if (!graph->getReturnType()->isIntegerTy(32))
    return createStringError(inconvertibleErrorCode(),
                             "internal error: the graph function does not "
                             "return an i32 status");
  size_t expected = model.inputs.size() + model.outputs.size() + 1;
  if (graph->arg_size() != expected)
    return createStringError(inconvertibleErrorCode(),
                             "internal error: the graph function takes " +
                                 Twine(graph->arg_size()) +
                                 " arguments, expected " + Twine(expected));
  // Only the entry points are visible outside the artifact.
  for (Function &f : module)
    if (!f.isDeclaration())
      f.setLinkage(GlobalValue::InternalLinkage);
  for (GlobalVariable &g : module.globals())
    if (!g.isDeclaration())
      g.setLinkage(GlobalValue::InternalLinkage);

  Function *run = buildRun(buildStringEdges(graph));
  Function *generic = buildGenericRun(run);
  std::vector<ValueSignature> inputValues =
      model.inputValues.empty() ? plainValues(model.inputs) : model.inputValues;
  std::vector<ValueSignature> outputValues = model.outputValues.empty()
                                                 ? plainValues(model.outputs)
                                                 : model.outputValues;
  const DataLayout &dl = module.getDataLayout();
  uint64_t structSize = dl.getTypeAllocSize(modelInfoTy);
  Constant *info = ConstantStruct::get(
      modelInfoTy,
      {ConstantInt::get(i32, kAbiVersion), ConstantInt::get(i32, structSize),
       cString(model.name, model.name + "_model_name"),
       tensorTable(model.inputs, "input"), tensorTable(model.outputs, "output"),
       ConstantInt::get(i32, model.inputs.size()),
       ConstantInt::get(i32, model.outputs.size()),
       ConstantInt::get(i64, model.workspaceSize),
       ConstantInt::get(i64, model.workspaceAlign),
       ConstantInt::get(i64, model.weightsSize), generic,
       valueTable(inputValues, "input"), valueTable(outputValues, "output"),
       ConstantInt::get(i32, inputValues.size()),
       ConstantInt::get(i32, outputValues.size())});
  auto *infoVar =
      new GlobalVariable(module, modelInfoTy, true, GlobalValue::PrivateLinkage,
                         info, model.name + "_model_info");

  auto *getter = Function::Create(FunctionType::get(ptrTy, false),
                                  GlobalValue::ExternalLinkage,
                                  model.name + "_info", module);
  getter->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", getter));
  b.CreateRet(infoVar);
  // kiln_model is another name for NAME_info, not another function: the
  // code, and so the header's NAME_CODE_SIZE, is the same for every kind of
  // artifact.
  if (exportKilnModel)
    GlobalAlias::create("kiln_model", getter);
  return Error::success();
}

Error kiln::addEntryPoints(Module &module, const ModelSignature &model,
                           StringRef graphName, bool exportKilnModel) {
  return EntryPointBuilder(module, model).build(graphName, exportKilnModel);
}

void kiln::addKernelNodes(Module &module, StringRef table) {
  if (table.empty())
    return;
  // NULs to a whole number of cache lines: the code after the section moves
  // by as many, so no loop lands differently on the lines than without it.
  std::string bytes = table.str();
  bytes.resize((bytes.size() / 64 + 1) * 64, '\0');
  Constant *text =
      ConstantDataArray::getString(module.getContext(), bytes, false);
  auto *var = new GlobalVariable(module, text->getType(), true,
                                 GlobalValue::PrivateLinkage, text,
                                 "kiln_kernel_nodes");
  var->setSection(".kiln_kernels");
  var->setAlignment(Align(1));
  // Nothing refers to it: keep it through the optimiser.
  appendToCompilerUsed(module, {var});
}

int64_t kiln::constantDataSize(const Module &module) {
  int64_t total = 0;
  const DataLayout &dl = module.getDataLayout();
  for (const GlobalVariable &g : module.globals())
    if (g.isConstant() && g.hasInitializer())
      total += dl.getTypeAllocSize(g.getValueType());
  return total;
}
