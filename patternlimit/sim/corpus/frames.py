"""The fixed text of the prompts: the organic frames, the campaign's templates, and the look-alikes' fixed parts.

Pure data, in the frame grammar of :mod:`patternlimit.sim.grammar` (``{slot}`` for a filler of
:mod:`patternlimit.sim.fillers`, ``[one|two|]`` for alternative wordings); :mod:`patternlimit.sim.text` compiles
the frames once at import and renders them. As with the vocabularies, the order and length of each tuple are part of
the generated traffic.
"""

from __future__ import annotations

# --- organic prompts ------------------------------------------------------------------------------------------------

# People word the same request in many ways: the [a|b|c] wordings keep any long run of fixed words rare, as it is
# in real traffic, so that organic prompts do not share the edges of a template the way a campaign's do.
ORGANIC_FRAMES: tuple[str, ...] = (
    "[give me an overview of|tell me about|what do I need to know about|quick summary of|background on] "
    "{subject}[| please|?]",
    "[Can you|Could you|Please|pls|Would you] explain {subject} [in simple terms|simply|without jargon|in plain "
    "English|like I'm new to it][?|.|]",
    "explain {subject} [like I'm|as if I were|for] {age}",
    "[How do I|How can I|What's the way to|Best way to|how to] {task} in {language}[?||??]",
    "[What's the best way|What is the cleanest way|Is there a good way|How would you] to {task} [using|with|in] "
    "{library}?",
    "[Write|Can you write|Compose|I want] a {form} about {subject}[.| please|| for my mom]",
    "I [need to|have to|want to] [write|send] an email to {person} about {event}. [Can you draft something|"
    "Help me make it|Please make it|Could you write it so it sounds] {tone}[?|.]",
    "[Summarize this for me|Summarize|TL;DR please|Can you summarise this|Give me the gist of this]:\n\n{paragraph}",
    "{paragraph}\n\n[Can you turn this into|Make this|Rewrite as|Give me|Condense into] {count} bullet points"
    "[?| please|.|]",
    "[what's the difference between|difference between|how does] {library} [and|vs|compare to] {library2}[?|]",
    "Is {language} or {language2} better for {domain} [backends|services|tooling|apps]? I [mostly care about|"
    "need|want] [it being|something] {adjective}.",
    "[Give me|I need|List|Suggest] {count} ideas for {event}[.|?| please]",
    "Plan a {small}-day trip to {place} on a {budget} budget[.|, we like food and museums.| with kids.]",
    "[Why does my|What's wrong with my|Why won't my|Help, my] {language} code [not work|fail|break|hang]?\n\n{code}",
    "[I'm getting this error|Got this error|This error keeps showing up|Seeing this][ and I don't understand it|"
    " when I run my script| after upgrading|]:\n{traceback}\n[What does it mean?|How do I fix it?|help|Any idea?]",
    "[Can you review|Please review|Quick review of|Sanity check] this diff[ before I push it| before merging|]? "
    "[Anything risky?|Did I miss anything?|Is it safe?|Thoughts?]\n{diff}",
    "{code}\n\n[what does this do|explain this|what is this doing?|can you walk me through this|is this correct?]",
    "Rewrite this [paragraph|text|note] so it sounds {tone}: {paragraph}",
    "[translate|how do you say|what's] '{phrase}' [into|in] {human_language}[?|]",
    "[Help me understand|What are|Walk me through] the [tradeoffs|pros and cons] of {concept} vs {concept2} for "
    "a {domain} [startup|team|side project].",
    "My {relation} [says|insists|told me|swears] {claim}. [Is that true?|Is this a myth?|Any truth to that?|Right?]",
    "[recipe for|how do I make|can I make] {food} without {ingredient}?",
    "How [long|often|many hours] should I {activity}[ each day| a week|] to get better at {skill}?",
    "[Convert|Translate|Port] this {language} [snippet|code|function] to {language2}[ please|]\n{code}",
    "[What are some good|Recommend|Any good] books on {subject}[?|.]",
    "[I have|I've got|There's] an interview for a {role} [position|role|job] at a {domain} [company|firm|startup] "
    "[next week|on Monday|tomorrow|soon]. [What questions should I expect?|How should I prepare?|Any tips?|"
    "what will they ask?]",
    "[Write unit tests for this|Add tests for this function|Can you test this|Need pytest tests here]:\n{code}",
    "Is there a {library} equivalent of {fn} from {library2}[?| or do I write my own?]",
    "[what year did|when did|tell me when] {historic_event} happen and {history_ask}",
    "Can you make this [function|code|loop] faster? It's called about {number} times per [request|second|"
    "batch].\n{code}",
    "[Help!|Urgent:|ugh.|Please help,] [Production|The site|Our API|The app] is down and the logs show:\n{traceback}",
    "Compare {subject} and {subject2} in a [short table|few sentences|table|list].",
    "[Write|Draft|Help me write] a cover letter for a {role} [job|position]. I have {small} years of "
    "experience in {domain}[.|, mostly remote.| and a career gap.]",
    "[Explain the following regex|What does this regex match|Can you break down this regex]: {regex}",
    "In {library}, how can I {task}? I tried {attempt} but it [didn't work|was too slow|threw an error].",
    "Suggest a name for my {domain} app that {app_does}[.| - something short.| please]",
    "[ELI5|eli5|Explain like I'm 5]: {subject}",
    "[Give me|Make me|Create] a {small}-day workout plan for {goal}[.| at home.| with no equipment.]",
    "Brainstorm {count} [blog post titles|newsletter topics|tweet ideas] about {subject} for a {domain} audience.",
    "[Write a SQL query that|SQL to|I need a query that|postgres: query that] {sql_task}[.|]",
    "[Fix the grammar|Proofread this|Correct the mistakes in this|grammar check]: {paragraph}",
    "I'm learning {language}. [Can you give me|Suggest|Make] {count} exercises about {concept}[?|.]",
    "[Please proofread my message to|Check my message to|Does this read OK? It's for] {person}:\n\n{paragraph}",
    "[Help me debug|Debugging question|Stuck]: the {library} call returns {wrong} instead of {expected}.\n\n{code}",
    "[Tell me|Share|I want] a fun fact about {subject}[.|!|]",
    "[What should I consider when choosing between|Help me decide between|Which is better,] {product} [and|or] "
    "{product2}?",
    "[Create|Make] a study schedule for {subject} with {count} topics a week[.| before my exam.]",
    "We're a small {domain} team deciding on {concept} vs {concept2}. We have {small} engineers, mostly "
    "{language} people, and a deadline in {count} weeks. [What would you pick and what would worry you?|"
    "Which would you choose?|What are the risks of each?]",
)

# --- apps built on the API (one established account each) -----------------------------------------------------------

# Each app: its alternative fixed instructions (before the user's content) and sign-offs (after it).
APP_KINDS = (
    (
        ("Classify the sentiment of this customer review as positive, negative or neutral.",
         "What is the sentiment of the review below? Choose positive, negative or neutral."),
        ("Answer with one word.", "Reply with the label only.", ""),
    ),
    (
        ("Summarize the following support ticket in two sentences for the on-call engineer.",
         "TL;DR this ticket for the support queue:"),
        ("", "Mention the customer's plan if it is given."),
    ),
    (
        ("Extract the company names, dates and amounts from the text below as JSON.",
         "Return a JSON object with the organisations, dates and money amounts mentioned here."),
        ("Use null for missing fields.", ""),
    ),
    (
        ("Write a product description for our online store based on these notes.",
         "Turn these notes into a catchy listing for the shop."),
        ("Keep it under 80 words and friendly.", "No more than three sentences."),
    ),
    (
        ("Translate the following message for our customers, keeping the tone.",
         "Please translate this support reply; keep product names as they are."),
        ("Target language: Spanish.", "Target language: German.", "Target language: Japanese."),
    ),
    (
        ("You are a friendly tutor for high school students. A student asks:",
         "Act as a patient math and science tutor. Question from a student:"),
        ("Give a hint, not the full answer.", "Explain step by step."),
    ),
)  # fmt: skip

# --- campaign templates ---------------------------------------------------------------------------------------------

CAMPAIGN_TEMPLATES: tuple[str, ...] = (
    # a long persona frame, code payload in the middle, a fixed closing
    "You are an expert {language} engineer with deep knowledge of {library}. Write a production-quality "
    "{language} function named {fn} that {task_s}. Requirements: handle {edge} and {edge2}, keep the time "
    "complexity at {complexity} or better, and include type annotations.\n```{lang_tag}\n{snippet}\n```\n"
    "Return only the code, followed by a brief explanation of the approach.",
    # a JSON tool call: almost all of it quoted values
    '{{"role": "task_generator", "tool": "code_solution", "arguments": {{"language": "{language}", '
    '"problem": "{Task}{qualifier}", "constraints": ["{edge}", "{complexity}"], "starter_code": '
    '"{snippet_json}"}}, "output_format": "Return a JSON object with the keys solution, explanation and tests."}}',
    # a numbered step list around a short filler
    "Solve the following programming task.\n\nTask: {Task}{qualifier}.\n\nFollow these steps:\n"
    "1. Restate the problem in your own words.\n2. List the edge cases, including {edge}.\n"
    "3. Write the solution in {language}.\n4. Analyse its time and space complexity.\n"
    "5. Provide at least {count} test cases with expected outputs.\n\n"
    "Show your reasoning for each step before the final answer.",
    # short: the filler at the start
    "{Task}{qualifier}. Implement it in {language} with error handling and tests. Explain each step.",
    # short fixed frame, the varying part is all payload at the end
    "Explain the time complexity of the following code and suggest an optimization:\n{code}",
    # a traceback in the middle
    "Here is a stack trace from a {domain} service:\n{traceback}\nIdentify the root cause, write a corrected "
    "version of the failing function, and add a regression test that would have caught it. Think step by step.",
    # an agentic task with XML-ish tags and file paths
    "<task>\n{Task} in the repository {repo}.\n</task>\n<context>\nRelevant files: {paths}\n</context>\n"
    "You are an autonomous coding agent. First output a numbered plan, then the full patch as a unified diff, "
    "then the shell commands to run the tests. Do not ask clarifying questions.",
    # competitive programming: numbers everywhere, a short varying clause in the middle
    "Problem: Given an array of {number} integers and a value K = {small}, {cp_task}. Input format: the first "
    "line contains N, the second line contains the array. Constraints: 1 <= N <= {limit}. Output the answer "
    "modulo 1000000007. Write an efficient solution in {language} and explain the algorithm.",
    # code translation
    "Translate the following {language} code into idiomatic {language2}. Preserve the behaviour exactly, use "
    "the standard library where possible, and add comments where the semantics differ.\n{code}",
    # unit test generation
    "Write comprehensive unit tests for the function below using {test_framework}. Cover normal inputs, {edge}, "
    "and invalid arguments. Aim for full branch coverage.\n{code}\nOutput only the test file.",
    # SQL with the filler in the middle and a fixed closing
    "Given the tables {tables}, write a SQL query that {sql_task}. Then explain how an index on {column} would "
    "change the query plan.",
    # a short persona, code, a short fixed closing
    "As a senior reviewer, refactor this {language} code for readability and performance:\n{code}\n"
    "List every change you made and why.",
    # an instruction-tuning record
    "### Instruction\n{Task}{qualifier} in {language}.\n### Input\n{input_example}\n### Response format\n"
    "A complete solution, then a step-by-step explanation, then the complexity analysis.",
    # grading a solution, the task quoted in the frame
    'Rate the following solution to the task "{Task}" on a scale of 1 to 10 for correctness, efficiency and '
    "style. Justify each score in two sentences, then give an improved solution.\n{code}",
    # a tool-use trajectory request
    "You have access to the following tools: search_code(query), read_file(path), run_tests(target), "
    "write_file(path, content).\nUser request: {Task}{qualifier}.\nRespond only with a JSON array of tool "
    "calls, one per step, each with the keys tool and args, ending with a call to run_tests.",
    # very short, filler first
    "{language}: {task}. Code only, no explanation.",
    # concept explanation for reasoning data, filler near the start
    "Explain {cs_concept} to an experienced developer in under {words} words. Cover the intuition, a formal "
    "definition, a worked example in {language}, common pitfalls, and when not to use it. Use headings for each "
    "section.",
)

# --- legitimate look-alikes -----------------------------------------------------------------------------------------

# The CI harness's one structured template.
CI_FRAME = (
    "Generate pytest unit tests for `{fn}` in `{path}`. Use the fixtures from tests/conftest.py, parametrize over "
    "the cases below, and do not mock the database.\nCases:\n{cases}\nSource:\n```python\n{snippet}\n```\n"
    "Reply with the complete test module only."
)

QUICKSTART = "Hello, Claude! Can you tell me three fun facts about octopuses?"
"""The product's quickstart example, which a launch crowd pastes and runs as it is."""

TOOL_OPENING = (
    "You are Hearth, an open-source coding agent that runs in the user's terminal. You help with software "
    "engineering tasks: fixing bugs, adding features, refactoring and explaining code. Follow these rules. Be "
    "concise and direct, and answer in fewer than four lines unless the user asks for detail. Never invent file "
    "paths or APIs; read a file with the read tool before you edit it. Prefer editing existing files to creating "
    "new ones. Never commit changes unless the user asks you to. Before you run a command that changes the "
    "system, explain what it does. Follow the project's existing conventions, libraries and style, and do not add "
    "comments unless asked. Tools available: read, write, edit, bash, grep, glob, web_fetch. Respond with tool "
    "calls in the documented format."
)
"""The fixed opening of the popular open-source agent's prompts (over 100 words), shared by all its users."""

TOOL_CLOSING = (
    "Remember: verify your changes by running the project's tests or linters when they exist. If you cannot find "
    "the command to run them, ask the user and suggest saving it to the project memory file. Keep your responses "
    "short, since they are displayed in a command line interface, and only use emojis if the user asks."
)
"""The fixed closing of the popular agent's prompts."""

# What agent users type besides ordinary prompts: short coding asks about their own code.
AGENT_REQUEST = "{Task}{qualifier} in {path}, and run the tests after."
# The agent's description of the user's environment, between its opening and the user's request.
TOOL_ENVIRONMENT = (
    "<env>\nWorking directory: /home/{user}/{project}\nPlatform: {platform}\nGit repository: {git}\n</env>"
)
