// Chatting with ML-Mamba through a Conversation that carries the SSM state: the Zephyr prompt as the authors build it,
// a first reply equal to greedy decoding after one prefill of [image ‖ prompt], later turns equal to re-running the
// whole history, save/load, cancellation. Tiny random model from tests/fixtures/mlmamba; a byte-level test tokenizer.
using MambaVL.Core.Config;
using MambaVL.Core.Tensors;
using MambaVL.Generation;
using MambaVL.Generation.Chat;
using MambaVL.Generation.Sampling;
using MambaVL.IO;
using MambaVL.IO.Safetensors;
using MambaVL.IO.Tokenizers;
using MambaVL.Models.Mamba2;
using MambaVL.Models.MlMamba;
using MambaVL.Models.Vision;

namespace MambaVL.Models.Tests;

public sealed class MlMambaChatTests
{
    private static readonly HfTokenizer Tokenizer = HfTokenizer.FromJson(MambaVL.Tests.Shared.ByteLevelTokenizerJson.Create(0, 1), "test tokenizer");
    private static readonly GenerationOptions Greedy = new() { Sampling = SamplingOptions.Greedy, MaxTokens = 12, SampleVocabLimit = 97 };

    private static string Dir(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    private static readonly Lazy<MlMambaModel> Model = new(() => VisionFixtures.MlMamba(Fixtures.Backend("cpu")));

    private static Dictionary<string, Tensor> Pixels()
    {
        using var f = new SafetensorsFile(Dir("vision", "goldens.safetensors"));
        var pixels = Tensor.FromArray(f.Get("pixels").ToFloatArray(), 3, 70, 70);
        return new() { ["dino"] = pixels, ["siglip"] = pixels };
    }

    private static Conversation NewChat()
    {
        var chat = new Conversation(Model.Value, Tokenizer, ChatTemplate.Zephyr, Greedy);
        chat.SetImage(Pixels());
        return chat;
    }

    [Fact]
    public void Zephyr_turns_are_built_as_the_authors_do()
    {
        Assert.Equal("<|user|>\nWhat is this?<|endoftext|>\n<|assistant|>\n", ChatTemplate.Zephyr.UserTurn("  <image>What is this? ", firstTurn: true));
        Assert.Equal("\n<|user|>\nAnd?<|endoftext|>\n<|assistant|>\n", ChatTemplate.Zephyr.UserTurn("And?", firstTurn: false));
    }

    [Fact]
    public void Internlm2_chat_turns_carry_the_system_block_once()
    {
        var t = ChatTemplate.Get("internlm2-chat");
        Assert.Equal($"<|im_start|>system\n{ChatTemplate.InternVlSystemMessage}<|im_end|><|im_start|>user\nHi<|im_end|><|im_start|>assistant\n", t.UserTurn("Hi", true));
        Assert.Equal("<|im_start|>user\nAnd?<|im_end|><|im_start|>assistant\n", t.UserTurn("And?", false));
        Assert.Equal("<|im_end|>", t.EndOfReply);
        Assert.Throws<ArgumentException>(() => ChatTemplate.Get("chatml-v9"));
    }

    [Fact]
    public void The_first_reply_is_greedy_decoding_after_one_prefill_of_image_and_prompt()
    {
        var chat = NewChat();
        chat.Ask("Describe it");
        var expected = GreedyAfterOnePrefill(Tokenizer.Encode(ChatTemplate.Zephyr.UserTurn("Describe it", true), false), chat.LastResult!.Ids.Length);
        Assert.Equal(expected, chat.LastResult!.Ids);
        Assert.True(chat.LastResult.Ids.Length > 0);
    }

    [Fact]
    public void A_second_turn_with_the_carried_state_equals_rerunning_the_whole_history()
    {
        var chat = NewChat();
        chat.Ask("Describe it");
        var first = chat.LastResult!;
        chat.Ask("More");
        // the history as tokens: turn 1 prompt, reply (ending with the terminator), turn 2 prompt
        var history = new List<int>(first.PromptIds);
        history.AddRange(first.Ids);
        if (first.FinishReason != FinishReason.StopId) history.Add(0);
        history.AddRange(Tokenizer.Encode(ChatTemplate.Zephyr.UserTurn("More", false), false));
        Assert.Equal(GreedyAfterOnePrefill(history.ToArray(), chat.LastResult!.Ids.Length), chat.LastResult.Ids);
        Assert.Equal(2, chat.Turns);
    }

    [Fact]
    public void A_saved_conversation_continues_as_if_never_interrupted()
    {
        var chat = NewChat();
        chat.Ask("Describe it");
        using var saved = new MemoryStream();
        chat.Save(saved);
        string continued = chat.Ask("More");

        var restored = new Conversation(Model.Value, Tokenizer, ChatTemplate.Zephyr, Greedy);
        saved.Position = 0;
        restored.Load(saved);
        Assert.True(restored.HasImage);
        Assert.Equal(1, restored.Turns);
        Assert.Equal(continued, restored.Ask("More"));
        Assert.Equal(chat.LastResult!.Ids, restored.LastResult!.Ids);
    }

    [Fact]
    public void A_corrupt_saved_conversation_is_refused_by_name()
    {
        var chat = new Conversation(Model.Value, Tokenizer, ChatTemplate.Zephyr, Greedy);
        var e = Assert.Throws<InvalidDataException>(() => chat.Load(new MemoryStream([1, 2, 3]), "chat.bin"));
        Assert.StartsWith("chat.bin: ", e.Message);
    }

    [Fact]
    public async Task A_cancelled_reply_leaves_a_usable_conversation()
    {
        var chat = NewChat();
        using var cts = new CancellationTokenSource();
        int pieces = 0;
        await foreach (var _ in chat.AskAsync("Describe it", cts.Token))
            if (++pieces == 2) cts.Cancel();
        Assert.Equal(FinishReason.Cancelled, chat.LastResult!.FinishReason);
        chat.Ask("More");
        Assert.Equal(2, chat.Turns);
        Assert.True(chat.LastResult!.Ids.Length > 0);
    }

    /// <summary>Greedy ids (at most <paramref name="count"/>, stopping at 0) after prefilling [image ‖ ids] in one go.</summary>
    private static int[] GreedyAfterOnePrefill(int[] ids, int count)
    {
        var model = Model.Value;
        var state = model.Llm.CreateState();
        var visual = model.VisualTokens(Pixels()["dino"], Pixels()["siglip"]);
        var logits = model.Prefill(visual, ids, state).ToFloatArray();
        var produced = new List<int>();
        while (produced.Count < count)
        {
            int next = Array.IndexOf(logits, logits.Take(97).Max());
            produced.Add(next);
            if (next == 0) break;
            logits = model.Llm.Step([next], state).ToFloatArray();
        }
        return produced.ToArray();
    }
}
