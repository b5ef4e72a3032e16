// Chat prompt formats, as text around each turn. Zephyr is what ML-Mamba's authors build (ZephyrChatPromptBuilder):
// no system prompt, no BOS, "<|user|>\n{msg}<|endoftext|>\n<|assistant|>\n", a later user turn led by "\n", and the
// assistant's reply closed by "<|endoftext|>".
namespace MambaVL.Generation.Chat;

public sealed record ChatTemplate(string Name, string UserPrefix, string UserSuffix, string LaterTurnPrefix, string EndOfReply)
{
    /// <summary>ML-Mamba's (and Cobra's) Zephyr format; the model stops at &lt;|endoftext|&gt; (id 0 in GPT-NeoX).</summary>
    public static ChatTemplate Zephyr { get; } = new("zephyr", "<|user|>\n", "<|endoftext|>\n<|assistant|>\n", "\n", "<|endoftext|>");

    public static IReadOnlyList<ChatTemplate> All { get; } = [Zephyr];

    public static ChatTemplate Get(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown chat template '{name}' (known: {string.Join(", ", All.Select(t => t.Name))})");

    /// <summary>
    /// The text of one user turn, up to where the assistant starts. The authors' add_turn removes "&lt;image&gt;" and trims
    /// the message; later turns get the leading newline.
    /// </summary>
    public string UserTurn(string message, bool firstTurn) =>
        (firstTurn ? "" : LaterTurnPrefix) + UserPrefix + message.Replace("<image>", "", StringComparison.Ordinal).Trim() + UserSuffix;
}
