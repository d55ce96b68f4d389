namespace ActorStack.Messages;

/// <summary>
/// The one failure reply to a command, modelled on Akka's <c>Tcp.CommandFailed</c>: it names the
/// <paramref name="Command"/> it answers (the command record itself, so a caller with several commands in flight
/// knows which one failed), the errno Linux returns for the same refusal (<paramref name="Error"/>, never
/// <see cref="Errno.OK"/>), and optionally the text a Linux tool prints with it (<paramref name="Detail"/>, e.g. tc's
/// "reordering not possible without specifying some delay"). Success replies stay per command, since they carry
/// results; a command answers with its success record or with this, never with <c>Status.Failure</c>.
/// </summary>
public sealed record CommandFailed(object Command, Errno Error, string Detail = "")
{
    /// <summary>What a Linux tool prints: the detail when there is one, else the errno's name.</summary>
    public string Message => Detail.Length > 0 ? Detail : Error.ToString();

    public override string ToString() => $"CommandFailed({Command.GetType().Name}, {Error}{(Detail.Length > 0 ? $": {Detail}" : "")})";
}
