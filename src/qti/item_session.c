/* item_session.c - item sessions (see item_session.h). Stub: implementation follows. */
#include "qti/item_session.h"

int qti_item_session_new(const struct qti_item *item, uint64_t seed, struct qti_item_session **out,
                         struct op_err *e)
{
    *out = NULL;
    return err_set(e, OP_EINPUT, "not implemented yet");
}
void qti_item_session_free(struct qti_item_session *s) {}
void qti_item_session_present(struct qti_item_session *s) {}
int qti_item_session_submit(struct qti_item_session *s, const json_t *responses,
                            const struct qti_submit_opts *opts, json_t **invalid, struct op_err *e)
{
    return err_set(e, OP_EINPUT, "not implemented yet");
}
void qti_item_session_add_duration(struct qti_item_session *s, double seconds) {}
const struct qti_item *qti_item_session_item(const struct qti_item_session *s)
{
    return NULL;
}
int qti_item_session_num_attempts(const struct qti_item_session *s)
{
    return 0;
}
double qti_item_session_duration(const struct qti_item_session *s)
{
    return 0;
}
const char *qti_item_session_completion_status(const struct qti_item_session *s)
{
    return "not_attempted";
}
int qti_item_session_is_presented(const struct qti_item_session *s)
{
    return 0;
}
int qti_item_session_is_responded(const struct qti_item_session *s)
{
    return 0;
}
int qti_item_session_is_correct(const struct qti_item_session *s)
{
    return 0;
}
int qti_item_session_is_judgeable(const struct qti_item_session *s)
{
    return 0;
}
const struct qti_value *qti_item_session_variable(const struct qti_item_session *s,
                                                  const char *identifier)
{
    return NULL;
}
json_t *qti_item_session_variable_json(const struct qti_item_session *s, const char *identifier)
{
    return NULL;
}
json_t *qti_item_session_outcomes_json(const struct qti_item_session *s)
{
    return json_object();
}
json_t *qti_item_session_responses_json(const struct qti_item_session *s)
{
    return json_object();
}
int qti_item_session_feedback_visible(const struct qti_item_session *s, const char *key)
{
    return 0;
}
json_t *qti_item_session_view(const struct qti_item_session *s, int show_feedback)
{
    return json_object();
}
json_t *qti_item_session_save(const struct qti_item_session *s)
{
    return json_object();
}
int qti_item_session_restore(const struct qti_item *item, const json_t *state,
                             struct qti_item_session **out, struct op_err *e)
{
    *out = NULL;
    return err_set(e, OP_EINPUT, "not implemented yet");
}
