// Chatting with HoVLE / mmMamba through a Conversation: the internlm2-chat prompt with the image placeholder, BOS and
// the system block, tokenized by the folder's own SentencePiece tokenizer, gives exactly the ids the authors' chat()
// builds (tests/fixtures/hovle/prompt.json) and the authors' greedy reply; a second turn on the carried state equals
// one prefill of the whole history; a conversation saved with its image still waiting continues identically.
using System.Text.Json;
using MambaVL.Core.Models;
using MambaVL.Core.Text;
using MambaVL.Generation;
using MambaVL.Generation.Chat;
using MambaVL.Generation.Sampling;
using MambaVL.IO.Tokenizers;
using MambaVL.Models.HoVle;

namespace MambaVL.Models.Tests;

public sealed class HoVleChatTests
{
    private static readonly GenerationOptions Greedy = new() { Sampling = SamplingOptions.Greedy, MaxTokens = 8 };

    private static ITokenizer Tokenizer(string variant) => TokenizerLoader.FromModelDirectory(HoVleFixtures.Folder(variant));

    private static string Question() =>
        JsonDocument.Parse(File.ReadAllText(VisionFixtures.Path("hovle", "prompt.json"))).RootElement.GetProperty("question").GetString()!;

    private static (HoVleModel Model, Conversation Chat) NewChat(string variant)
    {
        var model = HoVleFixtures.Load(variant);
        var chat = new Conversation((IVisionLanguageModel)model, Tokenizer(variant), ChatTemplate.InternLm2Chat, Greedy);
        using var gold = HoVleFixtures.Goldens(variant);
        chat.SetImage(HoVleFixtures.Pixels(gold));
        return (model, chat);
    }

    [Theory, MemberData(nameof(HoVleParityTests.Variants), MemberType = typeof(HoVleParityTests))]
    public void The_prompt_and_the_greedy_reply_are_the_authors(string variant)
    {
        var (_, chat) = NewChat(variant);
        chat.Ask(Question());
        using var gold = HoVleFixtures.Goldens(variant);
        Assert.Equal(HoVleFixtures.Ids(gold, "ids"), chat.LastResult!.PromptIds);
        var expected = HoVleFixtures.Ids(gold, "greedy");
        int stop = Array.IndexOf(expected, 4);  // <|im_end|> ends the reply
        Assert.Equal(stop < 0 ? expected : expected[..(stop + 1)], chat.LastResult.Ids);
    }

    [Fact]
    public void An_image_tag_in_the_message_is_replaced_where_it_stands()
    {
        Assert.Equal("Look: <img>X</img> now", ChatTemplate.WithImage("Look: <image> now", "<img>X</img>"));
        Assert.Equal("<img>X</img>\nWhat?", ChatTemplate.WithImage("What?", "<img>X</img>"));
        Assert.Equal("What?", ChatTemplate.WithImage("What?", ""));
        Assert.Equal("<|im_start|>user\n  spaced <image> \n<|im_end|><|im_start|>assistant\n", ChatTemplate.InternLm2Chat.UserTurn("  spaced <image> \n", false));
    }

    [Fact]
    public void A_second_turn_with_the_carried_state_equals_one_prefill_of_the_whole_history()
    {
        var (model, chat) = NewChat("hybrid");
        chat.Ask(Question());
        var first = chat.LastResult!;
        chat.Ask("And the colours?");
        var history = new List<int>(first.PromptIds);
        history.AddRange(first.Ids);
        if (first.FinishReason != FinishReason.StopId) history.Add(4);
        history.AddRange(Tokenizer("hybrid").Encode(ChatTemplate.InternLm2Chat.UserTurn("And the colours?", false), addSpecialTokens: false));

        var state = model.CreateState();
        using var gold = HoVleFixtures.Goldens("hybrid");
        model.PrefillImage(HoVleFixtures.Pixels(gold), state);
        var logits = model.Prefill(history.ToArray(), state);
        var expected = new List<int>();
        while (expected.Count < chat.LastResult!.Ids.Length)
        {
            expected.Add(Fixtures.ArgMax(model.Backend.ToHost(logits)));
            if (expected[^1] == 4) break;
            logits = model.Step([expected[^1]], state);
        }
        Assert.Equal(expected, chat.LastResult.Ids);
    }

    [Fact]
    public void A_conversation_saved_before_its_first_question_keeps_the_image()
    {
        var (model, chat) = NewChat("linear");
        using var saved = new MemoryStream();
        chat.Save(saved);
        string answer = chat.Ask(Question());

        var restored = new Conversation((IVisionLanguageModel)model, Tokenizer("linear"), ChatTemplate.InternLm2Chat, Greedy);
        saved.Position = 0;
        restored.Load(saved, "chat.bin");
        Assert.True(restored.HasImage);
        Assert.Equal(answer, restored.Ask(Question()));
        Assert.Equal(chat.LastResult!.PromptIds, restored.LastResult!.PromptIds);
    }
}
