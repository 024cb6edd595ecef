// llava_v1 conversation template and GLaMM instruction strings. See conversation.h.
#include "model/conversation.h"

#include "common/error.h"
#include "model/text_postprocess.h"

namespace glamm::model::conv {
namespace {

void reject_image_token(std::string_view text, const std::string& where) {
  if (text.find(kImageToken) != std::string_view::npos) {
    throw InputError("", where, "text must not contain \"<image>\" (the model takes exactly one image)");
  }
}

/// The messages of completed rounds: image prefix in the first user turn, answers as given.
std::vector<Message> round_messages(const std::vector<Round>& rounds) {
  std::vector<Message> messages;
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    const std::string where = "round " + std::to_string(i);
    reject_image_token(rounds[i].user, where + " user");
    reject_image_token(rounds[i].assistant, where + " assistant");
    if (rounds[i].assistant.empty()) throw InputError("", where, "empty assistant answer");
    messages.push_back({std::string(kUserRole), (i == 0 ? std::string(kImagePrefix) : std::string()) + rounds[i].user});
    messages.push_back({std::string(kAssistantRole), rounds[i].assistant});
  }
  return messages;
}

}  // namespace

const std::vector<std::string>& refseg_question_templates() {
  static const std::vector<std::string> kTemplates = {
      "Can you segment the {class_name} in this image?",
      "Please segment {class_name} in this image.",
      "What is {class_name} in this image? Please respond with segmentation mask.",
      "What is {class_name} in this image? Please output segmentation mask.",
      "Can you segment the {class_name} in this image",
      "Please segment {class_name} in this image",
      "What is {class_name} in this image? Please respond with segmentation mask",
      "What is {class_name} in this image? Please output segmentation mask",
      "Could you provide a segmentation mask for the {class_name} in this image?",
      "Please identify and segment the {class_name} in this image.",
      "Where is the {class_name} in this picture? Please respond with a segmentation mask.",
      "Can you highlight the {class_name} in this image with a segmentation mask?",
      "Could you provide a segmentation mask for the {class_name} in this image",
      "Please identify and segment the {class_name} in this image",
      "Where is the {class_name} in this picture? Please respond with a segmentation mask",
      "Can you highlight the {class_name} in this image with a segmentation mask",
  };
  return kTemplates;
}

const std::vector<std::string>& refseg_answers() {
  static const std::vector<std::string> kAnswers = {
      "It is [SEG].", "Sure, [SEG].", "Sure, it is [SEG].", "Sure, the segmentation result is [SEG].", "[SEG].",
  };
  return kAnswers;
}

std::string fill_template(std::string_view templ, std::string_view expression) {
  return py_replace(templ, "{class_name}", expression);
}

std::string render(const std::vector<Message>& messages) {
  std::string out(kSystem);
  out += kSep;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (m.text.empty()) {
      out += m.role + ":";
    } else {
      out += m.role + ": " + m.text;
      out += (i % 2 == 0) ? kSep : kSep2;
    }
  }
  return out;
}

std::string single_turn_prompt(std::string_view instruction) {
  reject_image_token(instruction, "instruction");
  return render({{std::string(kUserRole), std::string(kImagePrefix) + std::string(instruction)},
                 {std::string(kAssistantRole), ""}});
}

std::string teacher_forced_conversation(const std::vector<Round>& rounds) {
  if (rounds.empty()) throw InputError("", "conversation", "no rounds");
  return render(round_messages(rounds));
}

std::string chat_prompt(const std::vector<Round>& history, std::string_view instruction) {
  if (history.empty()) return single_turn_prompt(instruction);
  reject_image_token(instruction, "instruction");
  auto messages = round_messages(history);
  messages.push_back({std::string(kUserRole), std::string(instruction)});
  messages.push_back({std::string(kAssistantRole), ""});
  return render(messages);
}

}  // namespace glamm::model::conv
