// The llava_v1 conversation template GLaMM uses, the single-turn prompt of the eval scripts, the teacher-forced
// multi-turn conversation of the referring-segmentation evaluation, and the official instruction strings.
// Torch-free.
// Reference: groundingLMM model/llava/conversation.py (`conv_llava_v1`, SeparatorStyle.TWO, get_prompt),
// eval/gcg/infer.py and eval/region_captioning/infer.py (prompt building), dataset/utils/utils.py (question and
// answer lists). Spec: glamm-model.md §3.4, §3.5.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace glamm::model::conv {

/// llava_v1 system text (verbatim).
inline constexpr std::string_view kSystem =
    "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, "
    "detailed, and polite answers to the human's questions.";
inline constexpr std::string_view kUserRole = "USER";
inline constexpr std::string_view kAssistantRole = "ASSISTANT";
inline constexpr std::string_view kSep = " ";       ///< after system text and user messages
inline constexpr std::string_view kSep2 = "</s>";   ///< after assistant messages

/// The image placeholder and its mm_use_im_start_end form.
inline constexpr std::string_view kImageToken = "<image>";
inline constexpr std::string_view kImageStartEnd = "<im_start><image><im_end>";
/// The first user turn's image prefix (with the real newline), after the <image> → <im_start><image><im_end>
/// replacement.
inline constexpr std::string_view kImagePrefix =
    "The <im_start><image><im_end> provides an overview of the picture.\n";

/// GCG instruction of eval/gcg/infer.py: note the 5 spaces before "segmentation" (backslash continuation keeps
/// the next line's indent).
inline constexpr std::string_view kGcgInstruction =
    "Could you please give me a detailed description of the image? Please respond with interleaved     "
    "segmentation masks for the corresponding parts of the answer.";
/// Region-captioning instruction of eval/region_captioning/infer.py (RefCOCOg and VG), one <bbox>.
inline constexpr std::string_view kRegionCaptionInstruction =
    "Can you provide me with a detailed description of the region in the picture marked by <bbox>?";
/// Image-captioning instruction (CAPTION_QUESTIONS[0]).
inline constexpr std::string_view kImageCaptionInstruction =
    "Could you please give me a detailed description of the image?";

/// Referring-segmentation question templates (SEG_QUESTIONS, 16 entries, training order); "{class_name}" marks
/// the referring expression.
const std::vector<std::string>& refseg_question_templates();
/// Referring-segmentation answers (ANSWER_LIST, 5 entries): "It is [SEG].", "Sure, [SEG].", …
const std::vector<std::string>& refseg_answers();
/// `templ` with every "{class_name}" replaced by `expression` (what `templ.format(class_name=expression)` gives for
/// these templates, which have no other braces).
std::string fill_template(std::string_view templ, std::string_view expression);

/// One message of a conversation. An empty text renders as "ROLE:" with no separator (the open assistant
/// turn), as conversation.py does for None/"" messages.
struct Message {
  std::string role;
  std::string text;
};

/// SeparatorStyle.TWO get_prompt: system + " ", then per message i `role + ": " + text + (i even ? " " :
/// "</s>")`, or `role + ":"` for an empty text.
std::string render(const std::vector<Message>& messages);

/// The eval scripts' single-turn generation prompt:
/// `{kSystem} USER: {kImagePrefix}{instruction} ASSISTANT:`.
/// Throws glamm::InputError when `instruction` contains "<image>" (the model takes exactly one image).
std::string single_turn_prompt(std::string_view instruction);

/// One user/assistant round of a teacher-forced conversation.
struct Round {
  std::string user;
  std::string assistant;
};

/// The teacher-forced multi-round conversation of the referring-segmentation evaluation: the image prefix in
/// the first user turn only, every answer followed by "</s>":
/// `{kSystem} USER: {kImagePrefix}{u0} ASSISTANT: {a0}</s>USER: {u1} ASSISTANT: {a1}</s>…`.
/// Throws glamm::InputError for no rounds, an empty answer (it would render as an open turn), or "<image>"
/// inside any text.
std::string teacher_forced_conversation(const std::vector<Round>& rounds);

/// A multi-turn generation prompt (the demo's follow-up turns): the completed `history` rounds rendered as in
/// teacher_forced_conversation (image prefix in the first user turn, answers without "</s>" — it is added), then
/// `USER: {instruction} ASSISTANT:` without a new image prefix. With an empty history this is
/// single_turn_prompt(instruction). Throws glamm::InputError as teacher_forced_conversation / single_turn_prompt.
std::string chat_prompt(const std::vector<Round>& history, std::string_view instruction);

}  // namespace glamm::model::conv
