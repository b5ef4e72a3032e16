// Chat prompt formats, as text around each turn. Zephyr is what ML-Mamba's authors build (ZephyrChatPromptBuilder);
// internlm2-chat is HoVLE's and mmMamba's. Zephyr:
// no system prompt, no BOS, "<|user|>\n{msg}<|endoftext|>\n<|assistant|>\n", a later user turn led by "\n", and the
// assistant's reply closed by "<|endoftext|>".
namespace MambaVL.Generation.Chat;

public sealed record ChatTemplate(string Name, string UserPrefix, string UserSuffix, string LaterTurnPrefix, string EndOfReply)
{
    /// <summary>Text before the first user turn only (a system block); empty for templates without one.</summary>
    public string FirstTurnPrefix { get; init; } = "";

    /// <summary>
    /// The first turn is tokenized with the tokenizer's special tokens (InternLM2's BOS), as the authors' tokenizer(query)
    /// call does; Zephyr's builder adds none.
    /// </summary>
    public bool SpecialTokensOnFirstTurn { get; init; }

    /// <summary>ML-Mamba's add_turn drops "&lt;image&gt;" and trims the message; InternVL's chat() keeps it as typed.</summary>
    public bool CleansMessage { get; init; } = true;

    /// <summary>ML-Mamba's (and Cobra's) Zephyr format; the model stops at &lt;|endoftext|&gt; (id 0 in GPT-NeoX).</summary>
    public static ChatTemplate Zephyr { get; } = new("zephyr", "<|user|>\n", "<|endoftext|>\n<|assistant|>\n", "\n", "<|endoftext|>");

    /// <summary>InternVL's default system message, which HoVLE and mmMamba's chat() put in every conversation.</summary>
    public const string InternVlSystemMessage = "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。";

    /// <summary>
    /// internlm2-chat (HoVLE / mmMamba conversation.py, MPT style, separator &lt;|im_end|&gt; with no newline):
    /// "&lt;|im_start|&gt;system\n{SYS}&lt;|im_end|&gt;&lt;|im_start|&gt;user\n{Q}&lt;|im_end|&gt;&lt;|im_start|&gt;assistant\n"; stops at &lt;|im_end|&gt;.
    /// </summary>
    public static ChatTemplate InternLm2Chat { get; } = new("internlm2-chat", "<|im_start|>user\n", "<|im_end|><|im_start|>assistant\n", "", "<|im_end|>")
    {
        FirstTurnPrefix = $"<|im_start|>system\n{InternVlSystemMessage}<|im_end|>",
        SpecialTokensOnFirstTurn = true,
        CleansMessage = false,
    };

    public static IReadOnlyList<ChatTemplate> All { get; } = [Zephyr, InternLm2Chat];

    public static ChatTemplate Get(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown chat template '{name}' (known: {string.Join(", ", All.Select(t => t.Name))})");

    /// <summary>The text of one user turn, up to where the assistant starts; later turns get the template's lead-in.</summary>
    public string UserTurn(string message, bool firstTurn) =>
        (firstTurn ? FirstTurnPrefix : LaterTurnPrefix) + UserPrefix
        + (CleansMessage ? message.Replace("<image>", "", StringComparison.Ordinal).Trim() : message) + UserSuffix;

    /// <summary>
    /// Puts the text that stands for an image into a message as InternVL's chat() does: in place of the first
    /// "&lt;image&gt;", or in front followed by a newline when the message has none.
    /// </summary>
    public static string WithImage(string message, string imageText)
    {
        if (imageText.Length == 0) return message;
        int at = message.IndexOf("<image>", StringComparison.Ordinal);
        return at < 0 ? imageText + "\n" + message : message[..at] + imageText + message[(at + "<image>".Length)..];
    }
}
