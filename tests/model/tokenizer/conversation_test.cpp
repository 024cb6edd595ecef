// llava_v1 prompts (glamm-model.md §3.4) and the official instruction strings (§3.5).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "model/conversation.h"

namespace conv = glamm::model::conv;

namespace {
const std::string kSys =
    "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, "
    "detailed, and polite answers to the human's questions.";
}

TEST(Instructions, GcgKeepsItsFiveSpaces) {
  EXPECT_NE(conv::kGcgInstruction.find("interleaved     segmentation"), std::string_view::npos);
  EXPECT_EQ(conv::kGcgInstruction.find("interleaved      "), std::string_view::npos);
  EXPECT_EQ(conv::kGcgInstruction.size(), 159u);
}

TEST(Instructions, RegionCaptionHasOneBbox) {
  const std::string s(conv::kRegionCaptionInstruction);
  EXPECT_EQ(s, "Can you provide me with a detailed description of the region in the picture marked by <bbox>?");
  EXPECT_EQ(conv::kImageCaptionInstruction, "Could you please give me a detailed description of the image?");
}

TEST(Instructions, RefsegTemplatesAndAnswers) {
  ASSERT_EQ(conv::refseg_question_templates().size(), 16u);
  ASSERT_EQ(conv::refseg_answers().size(), 5u);
  EXPECT_EQ(conv::fill_template(conv::refseg_question_templates()[0], "man"), "Can you segment the man in this image?");
  EXPECT_EQ(conv::fill_template(conv::refseg_question_templates()[1], "road"), "Please segment road in this image.");
  EXPECT_EQ(conv::refseg_answers()[4], "[SEG].");
  for (const auto& t : conv::refseg_question_templates()) EXPECT_NE(t.find("{class_name}"), std::string::npos) << t;
}

TEST(SingleTurnPrompt, IsByteExact) {
  const std::string expected = kSys +
                               " USER: The <im_start><image><im_end> provides an overview of the picture.\n"
                               "Describe it. ASSISTANT:";
  EXPECT_EQ(conv::single_turn_prompt("Describe it."), expected);
}

TEST(SingleTurnPrompt, RejectsASecondImage) {
  EXPECT_THROW(conv::single_turn_prompt("Compare with <image>"), glamm::InputError);
}

TEST(Render, EmptyMessageIsAnOpenTurnWithoutSeparator) {
  EXPECT_EQ(conv::render({{"USER", "a"}, {"ASSISTANT", "b"}, {"USER", "c"}, {"ASSISTANT", ""}}),
            kSys + " USER: a ASSISTANT: b</s>USER: c ASSISTANT:");
  EXPECT_EQ(conv::render({}), kSys + " ");
}

TEST(TeacherForced, AnswersEndInEos) {
  const std::string expected =
      kSys +
      " USER: The <im_start><image><im_end> provides an overview of the picture.\nCan you segment the man in this "
      "image? ASSISTANT: Sure, [SEG].</s>USER: Please segment road in this image. ASSISTANT: It is [SEG].</s>";
  EXPECT_EQ(conv::teacher_forced_conversation({{"Can you segment the man in this image?", "Sure, [SEG]."},
                                               {"Please segment road in this image.", "It is [SEG]."}}),
            expected);
}

TEST(TeacherForced, RejectsEmptyAndImageText) {
  EXPECT_THROW(conv::teacher_forced_conversation({}), glamm::InputError);
  EXPECT_THROW(conv::teacher_forced_conversation({{"q", ""}}), glamm::InputError);
  EXPECT_THROW(conv::teacher_forced_conversation({{"q <image>", "a"}}), glamm::InputError);
}

TEST(ChatPrompt, FollowUpHasNoNewImagePrefix) {
  EXPECT_EQ(conv::chat_prompt({}, "x"), conv::single_turn_prompt("x"));
  EXPECT_EQ(conv::chat_prompt({{"q1", "a1"}}, "q2"),
            kSys + " USER: The <im_start><image><im_end> provides an overview of the picture.\nq1 ASSISTANT: "
                   "a1</s>USER: q2 ASSISTANT:");
}
